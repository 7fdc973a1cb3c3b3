package dev.handoff.testkit.cluster;

import static org.awaitility.Awaitility.await;

import dev.handoff.HandoffException;
import dev.handoff.MemberEvent;
import dev.handoff.NodeState;
import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.StateCodec;
import dev.handoff.zk.ZkMembership;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A Handoff node JVM of {@link OverloadTest} that offers stash load to itself: a real node
 * (KafkaDeltaLog, ZkMembership, string states of a fixed size, the library's defaults unless told)
 * with a load generator inside, so that the offered rate is not limited by a pipe from the test.
 *
 * <p>Arguments: the {@link NodeConfig} ones plus {@code --sessions N --state-bytes B} and,
 * optionally, {@code --max-pending-bytes B}. Commands on standard input, one per line, answered on
 * standard output:
 *
 * <ul>
 *   <li>{@code create}: stashes every session once (closed loop): {@code CREATED <n>}.
 *   <li>{@code calibrate <seconds>}: stashes with 512 in flight (closed loop): {@code CALIBRATED
 *       <acknowledged per second>}, what this node sustains.
 *   <li>{@code load <per second> <seconds> <acked file>}: offers stashes at that rate whatever
 *       comes back (open loop), round robin over the sessions, each a newer version of its session;
 *       prints {@code STATS ...} every second and {@code LOADED ...} at the end, once every stash
 *       has completed, and writes each session's latest acknowledged version to the file.
 *   <li>{@code pickup <file>}: picks up every session, writes each one's version to the file:
 *       {@code PICKED <n> <failed>}.
 * </ul>
 *
 * After every full collection the JVM runs it prints {@code HEAP <used bytes after it>}; {@code gc}
 * forces one and answers {@code GC <used bytes>}. Once ready it prints {@code READY <writerId>
 * <maxPendingBytes> <memoryBudget> <max heap>}. SIGTERM leaves gracefully; the end of standard
 * input halts at once.
 */
public final class OverloadNodeMain {
  private static final PrintStream OUT = System.out;
  private static final long HEAP_EVERY_MS = 500;
  private static final int GENERATORS = 2;

  private final StateHandoff<String> handoff;
  private final int sessions;
  private final int stateBytes;
  private final String[] keys;
  private final String filler;
  private final AtomicLongArray offeredVersion;
  private final AtomicLongArray ackedVersion;
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong suspended = new AtomicLong();
  private final AtomicLong reregistered = new AtomicLong();
  private volatile long maxHeapUsed;
  private volatile long lastFullGc = -1;
  private static final java.util.Set<String> HEAP_POOLS =
      ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == java.lang.management.MemoryType.HEAP)
          .map(java.lang.management.MemoryPoolMXBean::getName)
          .collect(java.util.stream.Collectors.toSet());
  private static final java.util.regex.Pattern YOUNG =
      java.util.regex.Pattern.compile("Young|Copy|Scavenge|ParNew|Concurrent");
  private volatile boolean leftRunning;

  private OverloadNodeMain(StateHandoff<String> handoff, int sessions, int stateBytes) {
    this.handoff = handoff;
    this.sessions = sessions;
    this.stateBytes = stateBytes;
    this.keys = new String[sessions];
    for (int i = 0; i < sessions; i++) {
      keys[i] = String.format("s-%07d", i);
    }
    var f = new StringBuilder(stateBytes + 26);
    while (f.length() < stateBytes + 26) {
      f.append((char) ('a' + f.length() % 26));
    }
    this.filler = f.toString();
    this.offeredVersion = new AtomicLongArray(sessions);
    this.ackedVersion = new AtomicLongArray(sessions);
  }

  public static void main(String[] args) throws Exception {
    System.setOut(System.err); // stdout carries the protocol; logs go to stderr
    NodeConfig config = NodeConfig.fromArgs(args);
    Map<String, String> extra = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      extra.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    var log =
        KafkaDeltaLog.builder()
            .bootstrapServers(config.bootstrapServers())
            .topic(config.topic())
            .partitions(config.partitions())
            .replicationFactor(config.replicationFactor())
            .clientProperty("client.id", "overload-" + config.memberId())
            .build();
    var membership =
        ZkMembership.builder()
            .connectString(config.zookeeperConnect())
            .root("/handoff")
            .group(config.topic())
            .memberId(config.memberId())
            .host("127.0.0.1")
            .sessionTimeout(config.sessionTimeout())
            .digestAuth(NodeFactory.ZK_USER, NodeFactory.ZK_PASSWORD)
            .build();
    var builder =
        StateHandoff.<String>builder()
            .deltaLog(log)
            .membership(membership)
            .codec(StateCodec.utf8())
            .name(config.memberId());
    long maxPending = Long.parseLong(extra.getOrDefault("max-pending-bytes", "0"));
    if (maxPending > 0) {
      builder.maxPendingBytes(maxPending);
    }
    var handoff = builder.build();
    var node =
        new OverloadNodeMain(
            handoff,
            Integer.parseInt(extra.get("sessions")),
            Integer.parseInt(extra.get("state-bytes")));
    handoff.onMemberEvent(node::onMemberEvent);
    handoff.leaveOnShutdown(Duration.ofSeconds(20), () -> {});
    handoff.start().join();
    var heap = Executors.newSingleThreadScheduledExecutor(OwnerThreads.daemon("overload-heap"));
    heap.scheduleWithFixedDelay(node::reportHeap, 0, HEAP_EVERY_MS, TimeUnit.MILLISECONDS);
    send(
        "READY "
            + handoff.self().writerId()
            + " "
            + pendingBound(maxPending, log)
            + " "
            + log.memoryBudget()
            + " "
            + Runtime.getRuntime().maxMemory());
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] p = line.split(" ");
      try {
        switch (p[0]) {
          case "create" -> node.create();
          case "gc" -> node.gcNow();
          case "calibrate" -> node.calibrate(Integer.parseInt(p[1]));
          case "load" -> node.load(Integer.parseInt(p[1]), Integer.parseInt(p[2]), Path.of(p[3]));
          case "pickup" -> node.pickupAll(Path.of(p[1]));
          default -> send("ERROR unknown command " + p[0]);
        }
      } catch (Exception e) {
        send("ERROR " + e.toString().replace('\n', ' '));
      }
    }
    Runtime.getRuntime().halt(3); // the test JVM is gone: never outlive it
  }

  /** The node's bound on pending state bytes: the one given, or the library's default. */
  private static long pendingBound(long given, KafkaDeltaLog log) {
    if (given > 0) {
      return given;
    }
    long ofHeap = Math.max(8L << 20, Runtime.getRuntime().maxMemory() / 10);
    return Math.min(ofHeap, log.appendBufferBytes() / 10 * 9);
  }

  private void onMemberEvent(MemberEvent e) {
    if (e instanceof MemberEvent.ConnectionChanged cc) {
      switch (cc.state()) {
        case LOST -> lost.incrementAndGet();
        case SUSPENDED -> suspended.incrementAndGet();
        case REREGISTERED -> reregistered.incrementAndGet();
        default -> {}
      }
    }
  }

  /**
   * Reports the heap after each full collection the JVM ran on its own since the last call: what
   * the node really holds, measured without forcing collections (which would slow the node down).
   */
  private void reportHeap() {
    try {
      for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (!(gc instanceof com.sun.management.GarbageCollectorMXBean full)
            || YOUNG.matcher(gc.getName()).find()) {
          continue;
        }
        var info = full.getLastGcInfo();
        if (info == null || info.getId() == lastFullGc) {
          continue;
        }
        lastFullGc = info.getId();
        long used = 0;
        for (var pool : info.getMemoryUsageAfterGc().entrySet()) {
          if (HEAP_POOLS.contains(pool.getKey())) { // not metaspace or code
            used += pool.getValue().getUsed();
          }
        }
        maxHeapUsed = Math.max(maxHeapUsed, used);
        send("HEAP " + used);
      }
    } catch (RuntimeException e) {
      send("ERROR heap " + e);
    }
  }

  /** A full collection now, then its reading: {@code GC <used bytes>}. */
  private void gcNow() {
    System.gc();
    reportHeap();
    send("GC " + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
  }

  /** Version {@code v} of session {@code i}: its version first, then filler to the state size. */
  private String state(int i, long v) {
    String head = keys[i] + " v=" + v + ';';
    // Filler from a prepared string: building each state must cost the generator little.
    return head + filler.substring(i % 26, i % 26 + Math.max(0, stateBytes - head.length()));
  }

  private static long versionOf(String state) {
    int at = state.indexOf(" v=");
    return Long.parseLong(state.substring(at + 3, state.indexOf(';', at)));
  }

  /** Stashes every session once, retrying a stash refused as Overloaded, as a client would. */
  private void create() throws InterruptedException {
    var inFlight = new Semaphore(512);
    var failed = new AtomicLong();
    for (int i = 0; i < sessions; i++) {
      inFlight.acquire();
      offeredVersion.set(i, 1);
      createOne(i, inFlight, failed);
    }
    inFlight.acquire(512);
    inFlight.release(512);
    send("CREATED " + (sessions - failed.get()));
  }

  private void createOne(int s, Semaphore inFlight, AtomicLong failed) {
    handoff
        .stash(keys[s], state(s, 1))
        .whenComplete(
            (v, e) -> {
              if (e == null) {
                ackedVersion.accumulateAndGet(s, 1, Math::max);
              } else if (unwrap(e) instanceof HandoffException.Overloaded) {
                CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS)
                    .execute(() -> createOne(s, inFlight, failed));
                return;
              } else {
                failed.incrementAndGet();
              }
              inFlight.release();
            });
  }

  private void calibrate(int seconds) throws InterruptedException {
    var inFlight = new Semaphore(512);
    var acked = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long t0 = System.nanoTime();
    int i = 0;
    while (System.nanoTime() < end) {
      inFlight.acquire();
      int s = i++ % sessions;
      long v = offeredVersion.incrementAndGet(s);
      handoff
          .stash(keys[s], state(s, v))
          .whenComplete(
              (r, e) -> {
                if (e == null) {
                  acked.incrementAndGet();
                  ackedVersion.accumulateAndGet(s, v, Math::max);
                }
                inFlight.release();
              });
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    inFlight.acquire(512);
    inFlight.release(512);
    send(String.format(Locale.ROOT, "CALIBRATED %.0f", acked.get() / secs));
  }

  /** Offers {@code rate} stashes per second for {@code seconds}, whatever comes back. */
  private void load(int rate, int seconds, Path ackedFile) throws Exception {
    var ok = new AtomicLong();
    var overloaded = new AtomicLong();
    var failed = new AtomicLong();
    var failures = new ConcurrentLinkedQueue<String>();
    var latencies = new LatencyHistogram();
    var outstanding = new AtomicLong();
    long t0 = System.nanoTime();
    long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
    var offered = new AtomicLong();
    leftRunning = false;
    // Two generator threads, each offering half the rate over its half of the sessions: one
    // thread alone cannot offer several times what the node sustains.
    var generators = Executors.newFixedThreadPool(GENERATORS, OwnerThreads.daemon("overload-gen"));
    for (int g = 0; g < GENERATORS; g++) {
      int first = g;
      generators.execute(
          () -> {
            long mine = 0;
            int next = first;
            double share = (double) rate / GENERATORS;
            while (true) {
              long now = System.nanoTime();
              if (now >= end) {
                return;
              }
              // Open loop: as many stashes as the rate says by now, whatever came back; bounded
              // per round, so that a generator that falls behind still stops on time.
              long due = (long) ((now - t0) / 1e9 * share);
              while (mine < due && System.nanoTime() < end) {
                int s = next % sessions;
                next += GENERATORS;
                long v = offeredVersion.incrementAndGet(s);
                long sent = System.nanoTime();
                mine++;
                offered.incrementAndGet();
                outstanding.incrementAndGet();
                handoff
                    .stash(keys[s], state(s, v))
                    .whenComplete(
                        (r, e) -> {
                          if (e == null) {
                            ok.incrementAndGet();
                            latencies.add(System.nanoTime() - sent);
                            ackedVersion.accumulateAndGet(s, v, Math::max);
                          } else {
                            Throwable cause = unwrap(e);
                            if (cause instanceof HandoffException.Overloaded) {
                              overloaded.incrementAndGet();
                            } else {
                              failed.incrementAndGet();
                              if (failures.size() < 20) {
                                failures.add(cause.toString());
                              }
                            }
                          }
                          outstanding.decrementAndGet();
                        });
              }
              java.util.concurrent.locks.LockSupport.parkNanos(500_000); // pacing, not a wait
            }
          });
    }
    generators.shutdown();
    boolean running = true;
    while (!generators.awaitTermination(1, TimeUnit.SECONDS)) {
      running &= handoff.state() == NodeState.RUNNING;
      send(stats("STATS", offered.get(), ok.get(), overloaded.get(), failed.get(), null));
    }
    long offeredFor = System.nanoTime() - t0;
    try {
      // Every stash completes within the node's operation timeout.
      await().atMost(Duration.ofSeconds(120)).until(() -> outstanding.get() == 0);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // reported as unfinished
    }
    long unfinished = outstanding.get();
    running &= handoff.state() == NodeState.RUNNING;
    leftRunning = running;
    double p99 = latencies.percentileMillis(0.99);
    double p50 = latencies.percentileMillis(0.50);
    writeVersions(ackedFile, ackedVersion);
    for (String f : failures) {
      send("FAILURE " + f.replace('\n', ' '));
    }
    send(
        stats(
            "LOADED",
            offered.get(),
            ok.get(),
            overloaded.get(),
            failed.get(),
            String.format(
                Locale.ROOT,
                "unfinished=%d seconds=%.1f p50ms=%.1f p99ms=%.1f running=%s",
                unfinished,
                offeredFor / 1e9,
                p50,
                p99,
                leftRunning)));
  }

  private String stats(
      String what, long offered, long ok, long overloaded, long failed, String more) {
    return String.format(
        Locale.ROOT,
        "%s offered=%d ok=%d overloaded=%d failed=%d state=%s writer=%s lost=%d suspended=%d"
            + " reregistered=%d maxheap=%d%s",
        what,
        offered,
        ok,
        overloaded,
        failed,
        handoff.state(),
        handoff.self().writerId(),
        lost.get(),
        suspended.get(),
        reregistered.get(),
        maxHeapUsed,
        more == null ? "" : " " + more);
  }

  private void pickupAll(Path file) throws Exception {
    var inFlight = new Semaphore(256);
    var picked = new AtomicLongArray(sessions);
    var failed = new AtomicLong();
    var failures = new ConcurrentLinkedQueue<String>();
    for (int i = 0; i < sessions; i++) {
      inFlight.acquire();
      int s = i;
      handoff
          .pickup(keys[s])
          .whenComplete(
              (state, e) -> {
                if (e == null && state.isPresent()) {
                  picked.set(s, versionOf(state.get()));
                  if (!state.get().equals(state(s, versionOf(state.get())))) {
                    picked.set(s, -1); // not a state this test ever offered
                  }
                } else {
                  failed.incrementAndGet();
                  if (failures.size() < 20) {
                    failures.add(keys[s] + ": " + (e == null ? "no state" : unwrap(e)));
                  }
                }
                inFlight.release();
              });
    }
    inFlight.acquire(256);
    writeVersions(file, picked);
    for (String f : failures) {
      send("FAILURE " + f.replace('\n', ' '));
    }
    send("PICKED " + (sessions - failed.get()) + " " + failed.get());
  }

  private void writeVersions(Path file, AtomicLongArray versions) throws IOException {
    List<String> lines = new ArrayList<>(sessions);
    for (int i = 0; i < sessions; i++) {
      lines.add(keys[i] + " " + versions.get(i));
    }
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  private static synchronized void send(String line) {
    OUT.println(line);
    OUT.flush();
  }

  /** Ack latencies in buckets 1% apart (a fixed few KiB, whatever the number of samples). */
  static final class LatencyHistogram {
    private static final double STEP = Math.log(1.01);
    private final AtomicLongArray buckets = new AtomicLongArray(2500);
    private final AtomicLong count = new AtomicLong();

    void add(long nanos) {
      double micros = Math.max(1, nanos / 1000.0);
      int b = (int) Math.min(buckets.length() - 1, Math.log(micros) / STEP);
      buckets.incrementAndGet(b);
      count.incrementAndGet();
    }

    double percentileMillis(double q) {
      long n = count.get();
      if (n == 0) {
        return Double.NaN;
      }
      long rank = (long) Math.ceil(q * n);
      long seen = 0;
      for (int b = 0; b < buckets.length(); b++) {
        seen += buckets.get(b);
        if (seen >= rank) {
          return Math.exp((b + 1) * STEP) / 1000.0; // the bucket's upper edge
        }
      }
      return Double.NaN;
    }
  }

  /** Daemon threads for the node's own helpers. */
  private static final class OwnerThreads {
    static java.util.concurrent.ThreadFactory daemon(String name) {
      return r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      };
    }
  }
}
