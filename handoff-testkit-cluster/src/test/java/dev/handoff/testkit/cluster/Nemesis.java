package dev.handoff.testkit.cluster;

import dev.handoff.testkit.EmbeddedZooKeeper;
import dev.handoff.testkit.KafkaBrokerProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault test's source of trouble, seeded: one fault at a time, a few seconds apart, against the
 * node JVMs, the ZooKeeper sessions and the Kafka broker. The seed fixes the sequence of choices
 * (which fault, which node, how long, which member id); their timing against the workload varies
 * from run to run.
 */
final class Nemesis {
  private static final Logger log = LoggerFactory.getLogger(Nemesis.class);

  /** The faults, with how often each is chosen (weights). */
  enum Fault {
    /** SIGSTOP past the ZooKeeper session timeout, then SIGCONT: the node comes back a zombie. */
    PAUSE(4),
    /** kill -9, then a replacement with the same member id or a new one. */
    KILL(2),
    /** The node's ZooKeeper session expired on the server (as after a partition). */
    EXPIRE(2),
    /** SIGTERM: the node stashes what it holds and leaves; then a replacement. */
    LEAVE(2),
    /** The Kafka broker restarted cleanly (SIGTERM, start on the same data). */
    BROKER_RESTART(1),
    /** The Kafka broker killed -9 and started again (log recovery). */
    BROKER_KILL(1);

    final int weight;

    Fault(int weight) {
      this.weight = weight;
    }
  }

  private final Random random;
  private final Duration sessionTimeout;
  private final EmbeddedZooKeeper zooKeeper;
  private final KafkaBrokerProcess broker;
  private final List<FaultNodeProcess> nodes;
  private final Function<String, FaultNodeProcess> launch;
  private final Set<Fault> enabled;
  private final Path eventLog;
  private final Map<Fault, Integer> counts = new EnumMap<>(Fault.class);
  private int nextMemberId;

  /**
   * @param nodes the running nodes; the nemesis replaces the ones it kills or stops in this list
   * @param launch starts a node JVM with the given member id and returns it once ready
   * @param eventLog where each fault is logged with {@code System.nanoTime()}, the histories' clock
   */
  Nemesis(
      long seed,
      Duration sessionTimeout,
      EmbeddedZooKeeper zooKeeper,
      KafkaBrokerProcess broker,
      CopyOnWriteArrayList<FaultNodeProcess> nodes,
      Function<String, FaultNodeProcess> launch,
      Set<Fault> enabled,
      Path eventLog) {
    this.random = new Random(seed);
    this.sessionTimeout = sessionTimeout;
    this.zooKeeper = zooKeeper;
    this.broker = broker;
    this.nodes = nodes;
    this.launch = launch;
    this.enabled = enabled.isEmpty() ? EnumSet.allOf(Fault.class) : EnumSet.copyOf(enabled);
    this.eventLog = eventLog;
    this.nextMemberId = nodes.size() + 1;
  }

  /** Injects faults until {@code duration} has passed; every fault is over when this returns. */
  void run(Duration duration) {
    long end = System.nanoTime() + duration.toNanos();
    while (System.nanoTime() < end) {
      hold(Duration.ofMillis(1_000 + random.nextInt(2_000)));
      Fault fault = choose();
      inject(fault);
      counts.merge(fault, 1, Integer::sum);
    }
  }

  /** How many times each fault was injected (every fault listed, 0 if never). */
  Map<Fault, Integer> counts() {
    var out = new EnumMap<Fault, Integer>(Fault.class);
    for (Fault f : Fault.values()) {
      out.put(f, counts.getOrDefault(f, 0));
    }
    return out;
  }

  private Fault choose() {
    int total = enabled.stream().mapToInt(f -> f.weight).sum();
    int pick = random.nextInt(total);
    for (Fault f : enabled) {
      pick -= f.weight;
      if (pick < 0) {
        return f;
      }
    }
    throw new AssertionError();
  }

  private void inject(Fault fault) {
    FaultNodeProcess node = nodes.get(random.nextInt(nodes.size()));
    switch (fault) {
      case PAUSE -> {
        Duration pause = sessionTimeout.plusMillis(1_500 + random.nextInt(3_000));
        event(fault, node + " for " + pause.toMillis() + " ms");
        node.pause();
        hold(pause);
        node.resume();
        event(fault, node + " resumed");
      }
      case KILL -> {
        String memberId = random.nextBoolean() ? node.memberId() : "node-" + ++nextMemberId;
        event(fault, node + ", replaced by " + memberId);
        node.kill();
        replace(node, memberId);
      }
      case LEAVE -> {
        String memberId = random.nextBoolean() ? node.memberId() : "node-" + ++nextMemberId;
        event(fault, node + ", replaced by " + memberId);
        node.terminate();
        event(fault, node + " has left");
        replace(node, memberId);
      }
      case EXPIRE -> {
        event(fault, node.toString());
        try {
          var session = node.session();
          zooKeeper.expireSession(session.sessionId(), session.password());
        } catch (RuntimeException e) {
          event(fault, node + ": could not expire (" + e.getMessage() + ")"); // e.g. mid-reconnect
        }
      }
      case BROKER_RESTART -> {
        event(fault, "SIGTERM");
        broker.restart();
        event(fault, "serving again");
      }
      case BROKER_KILL -> {
        event(fault, "SIGKILL");
        broker.sigkill();
        broker.restart();
        event(fault, "serving again");
      }
    }
  }

  private void replace(FaultNodeProcess old, String memberId) {
    var fresh = launch.apply(memberId);
    nodes.set(nodes.indexOf(old), fresh);
    event(null, fresh + " ready as " + fresh.writerIdAtStart());
  }

  /** Logs an event with the histories' clock. */
  void event(Fault fault, String what) {
    String line = System.nanoTime() + "\t" + (fault == null ? "-" : fault) + "\t" + what;
    log.info("nemesis: {} {}", fault == null ? "" : fault, what);
    try {
      Files.writeString(
          eventLog,
          line + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Keeps a fault going (or the cluster quiet) for {@code d}: a duration, not a synchronisation.
   */
  static void hold(Duration d) {
    try {
      TimeUnit.NANOSECONDS.sleep(d.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The faults named in {@code spec} ("PAUSE,KILL"); all if blank. */
  static Set<Fault> parse(String spec) {
    var out = EnumSet.noneOf(Fault.class);
    if (spec != null && !spec.isBlank()) {
      for (String s : spec.split(",")) {
        out.add(Fault.valueOf(s.trim().toUpperCase(java.util.Locale.ROOT)));
      }
    }
    return out;
  }
}
