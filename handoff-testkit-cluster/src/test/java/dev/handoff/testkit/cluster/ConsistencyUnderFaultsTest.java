package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.Member;
import dev.handoff.testkit.EmbeddedZooKeeper;
import dev.handoff.testkit.KafkaBrokerProcess;
import dev.handoff.testkit.cluster.history.HistoryChecker;
import dev.handoff.testkit.cluster.history.HistoryFile;
import dev.handoff.testkit.cluster.history.Op;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consistency contract under a randomized nemesis, on real Kafka and ZooKeeper with Handoff
 * nodes as separate JVMs: three nodes run the {@link CounterWorkload} while the {@link Nemesis}
 * pauses them past their ZooKeeper session timeout, kills them, expires their sessions, restarts
 * the broker and makes them leave; then the nemesis stops, the cluster heals, the workload stops, a
 * fresh node reads every session, and the {@link HistoryChecker} judges the merged histories.
 *
 * <p>About two minutes by default. {@code -Dhandoff.fault.minutes=15} runs the faults for longer;
 * {@code -Dhandoff.fault.seed=<n>} replays a seed's choices (printed at the start and in the
 * failure); {@code -Dhandoff.fault.faults=PAUSE,KILL} limits the faults. Histories, the nemesis log
 * and node logs stay in {@code target/fault-runs/}.
 */
class ConsistencyUnderFaultsTest {
  private static final Logger log = LoggerFactory.getLogger(ConsistencyUnderFaultsTest.class);
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
  // Longer than any pause, so a zombie's late write never meets a session whose end was forgotten.
  private static final Duration ENDED_RETENTION = Duration.ofSeconds(20);
  private static final int NODES = 3;
  private static final Duration DEFAULT_FAULTS = Duration.ofSeconds(70);
  private static final Duration HEAL = SESSION_TIMEOUT.multipliedBy(3).plusSeconds(5);

  private static final Duration WARM_UP = Duration.ofSeconds(3);
  private static final Duration NODE_START_TIMEOUT = Duration.ofSeconds(120);

  private final long seed =
      Long.getLong(
          "handoff.fault.seed", new java.security.SecureRandom().nextLong() & Long.MAX_VALUE);
  private final Duration faults = faultDuration();
  private final Path dir =
      Path.of("target", "fault-runs", "seed-" + seed + "-" + System.currentTimeMillis())
          .toAbsolutePath();
  private final String topic = "fault-" + Long.toHexString(seed);
  private final CopyOnWriteArrayList<FaultNodeProcess> nodes = new CopyOnWriteArrayList<>();
  private final AtomicInteger launches = new AtomicInteger();
  private EmbeddedZooKeeper zooKeeper;
  private KafkaBrokerProcess broker;

  @Test
  void noAcknowledgedWriteIsLostOrDoubledUnderPausesKillsExpiriesBrokerRestartsAndLeaves()
      throws Exception {
    Files.createDirectories(dir);
    log.info(
        "fault test: seed {} (replay: -Dhandoff.fault.seed={}), faults for {} s, files in {}",
        seed,
        seed,
        faults.toSeconds(),
        dir);
    long t0 = System.nanoTime();
    Nemesis nemesis;
    try (var zk = EmbeddedZooKeeper.start();
        var kafka = KafkaBrokerProcess.start(dir.resolve("kafka"))) {
      zooKeeper = zk;
      broker = kafka;
      try {
        startNodes();
        nemesis =
            new Nemesis(
                seed,
                SESSION_TIMEOUT,
                zk,
                kafka,
                nodes,
                this::launch,
                Nemesis.parse(System.getProperty("handoff.fault.faults")),
                dir.resolve("nemesis.log"));
        nemesis.event(null, "nodes ready: " + nodes);
        Nemesis.hold(WARM_UP); // sessions exist before the first fault
        nemesis.run(faults);
        nemesis.event(null, "faults over; healing for " + HEAL.toSeconds() + " s");
        // The time sessions of gone members have to find a live owner: a bound, not a wait.
        Nemesis.hold(HEAL);
        var hosted = quiesce();
        nemesis.event(null, "workload stopped; final reads");
        HistoryFile.writeEnding(dir.resolve("ending.txt"), finalReads(hosted));
      } finally {
        nodes.forEach(FaultNodeProcess::kill);
      }
    }

    var ops = HistoryFile.read(histories());
    var report = HistoryChecker.check(ops, HistoryFile.readEnding(dir.resolve("ending.txt")));
    String summary =
        String.format(
            "seed %d (replay with -Dhandoff.fault.seed=%d), %d s; nemesis %s; operations %s;%n%s%n"
                + "files: %s",
            seed,
            seed,
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0),
            nemesis.counts(),
            outcomes(ops),
            report.describe(3),
            dir);
    Files.writeString(dir.resolve("report.txt"), report.describe(Integer.MAX_VALUE) + "\n");
    log.info("fault test result: {}", summary);
    // A run where nothing happened proves nothing: the workload must have written and moved
    // sessions, and the nemesis must have struck.
    assertThat(count(ops, Op.Type.STASH)).as("ok stashes; " + summary).isGreaterThan(1_000);
    assertThat(count(ops, Op.Type.PICKUP)).as("ok pickups; " + summary).isPositive();
    assertThat(nemesis.counts().values().stream().mapToInt(Integer::intValue).sum())
        .as("faults injected; " + summary)
        .isPositive();
    assertThat(report.anomalies().size()).as(summary).isZero();
  }

  private static Duration faultDuration() {
    String minutes = System.getProperty("handoff.fault.minutes");
    return minutes == null
        ? DEFAULT_FAULTS
        : Duration.ofMillis((long) (Double.parseDouble(minutes) * 60_000));
  }

  /** Starts {@code node-1} to {@code node-N} at once. */
  private void startNodes() {
    var starting = new ArrayList<CompletableFuture<FaultNodeProcess>>();
    for (int i = 1; i <= NODES; i++) {
      String memberId = "node-" + i;
      starting.add(CompletableFuture.supplyAsync(() -> launch(memberId)));
    }
    starting.forEach(f -> nodes.add(f.join()));
  }

  /** Starts a node JVM named {@code <memberId>.<launch number>} in the histories. */
  private FaultNodeProcess launch(String memberId) {
    int n = launches.incrementAndGet();
    String name = memberId + "." + n;
    return FaultNodeProcess.start(
        config(memberId),
        name,
        dir.resolve(name + ".history"),
        seed * 31 + n,
        dir.resolve(name + ".log"),
        NODE_START_TIMEOUT);
  }

  private NodeConfig config(String memberId) {
    return new NodeConfig(
        broker.bootstrapServers(),
        zooKeeper.connectString(),
        topic,
        4,
        1,
        memberId,
        SESSION_TIMEOUT,
        ENDED_RETENTION,
        Map.of());
  }

  /** Stops every node's workload; returns what each writer holds. */
  private Map<String, Set<String>> quiesce() {
    var replies = nodes.stream().map(FaultNodeProcess::quiesce).toList();
    var hosted = new HashMap<String, Set<String>>();
    for (var f : replies) {
      try {
        var q = f.join();
        hosted.put(q.writerId(), q.held());
      } catch (RuntimeException e) {
        log.warn("a node did not quiesce: {}", e.toString()); // its sessions then count as unhosted
      }
    }
    return hosted;
  }

  /**
   * A fresh node reads every session any history mentions (and any it knows), recording the reads
   * as the history of node "final"; returns the ending: live members, owners, who hosts what.
   */
  private HistoryChecker.Ending finalReads(Map<String, Set<String>> hosted) throws Exception {
    var keys = new TreeSet<String>();
    HistoryFile.read(histories()).forEach(op -> keys.add(op.key()));
    var built = NodeFactory.build(config("final-reader"));
    var reader = built.handoff();
    try (var history = HistoryFile.record("final", dir.resolve("final.history"))) {
      reader.start().get(60, TimeUnit.SECONDS);
      keys.addAll(reader.keys());
      String writer = reader.self().writerId();
      var owners = new TreeMap<String, String>();
      for (String key : keys) {
        long seq = history.invoke(writer, Op.Type.READ, key, null, null);
        var value = reader.read(key).get(30, TimeUnit.SECONDS);
        history.ok(seq, Op.Type.READ, value.orElse(null));
        if (value.isPresent()) {
          owners.put(key, reader.owner(key).map(Object::toString).orElse("nobody"));
        }
      }
      Set<String> live =
          reader.members().stream().map(Member::writerId).collect(Collectors.toSet());
      return new HistoryChecker.Ending(live, owners, hosted);
    } finally {
      reader.close();
    }
  }

  private List<Path> histories() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".history")).sorted().toList();
    }
  }

  private static long count(List<Op> ops, Op.Type type) {
    return ops.stream().filter(op -> op.type() == type && op.ok()).count();
  }

  /** Operations by type and outcome, e.g. {@code STASH={OK=1234, FAIL=5}}. */
  private static Map<Op.Type, Map<Op.Outcome, Long>> outcomes(List<Op> ops) {
    return ops.stream()
        .collect(
            Collectors.groupingBy(
                Op::type,
                TreeMap::new,
                Collectors.groupingBy(Op::outcome, TreeMap::new, Collectors.counting())));
  }
}
