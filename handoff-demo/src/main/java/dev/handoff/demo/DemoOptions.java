package dev.handoff.demo;

import java.nio.file.Path;
import java.util.Set;

/**
 * Options of a demo run ({@code java -jar handoff-demo.jar --help}).
 *
 * @param nodes game server nodes (separate JVMs)
 * @param sessions game sessions across the cluster
 * @param stateSize approximate bytes of one session's encoded state
 * @param crashNode the node (1-based) killed with SIGKILL instead of SIGTERM, or 0 for none
 * @param kafka bootstrap servers of an existing Kafka, or null for an embedded broker
 * @param zookeeper connect string of an existing ZooKeeper, or null for an embedded server
 * @param partitions partitions of the session topic
 * @param replicationFactor replication factor of the session topic
 * @param tickMillis game tick period
 * @param stashMillis periodic stash interval of each session
 * @param sessionTimeoutMillis ZooKeeper session timeout of the nodes
 * @param warmupMillis how long sessions play before the roll starts
 * @param settleMillis how long sessions play after each node was replaced
 * @param runDir where node logs go, or null for the default
 * @param nodeHeapMegabytes max heap of every node JVM: {@code --node-heap}, or {@link #nodeHeapFor}
 *     the sessions, their size and the nodes
 */
public record DemoOptions(
    int nodes,
    int sessions,
    int stateSize,
    int crashNode,
    String kafka,
    String zookeeper,
    int partitions,
    int replicationFactor,
    int tickMillis,
    int stashMillis,
    int sessionTimeoutMillis,
    int warmupMillis,
    int settleMillis,
    Path runDir,
    int nodeHeapMegabytes) {

  /** The options, as {@code --help} prints them. */
  public static final String USAGE =
      """
      Usage: java -jar handoff-demo.jar [options]

      Runs a game cluster through a rolling deploy: starts ZooKeeper and Kafka (embedded, unless
      --kafka/--zookeeper are given), starts the nodes at version v1 hosting the sessions, then
      replaces every node, one at a time, by a v2 node with the same member id (v2's state schema
      adds a field with a default) while the sessions keep ticking. The old node gets SIGTERM,
      stashes its sessions and leaves; its replacement picks them up. Prints live progress, then a
      report; the exit code is 1 if any session was lost, stale or duplicated.

      Options:
        --nodes N                 nodes (JVMs) in the cluster                      [3]
        --sessions N              game sessions                                    [1000]
        --state-size BYTES        approximate size of one session's state          [512]
        --crash                   kill node 2 with SIGKILL instead of SIGTERM: its
                                  sessions resume from their last periodic stash
        --crash-node I            like --crash, for node I (1-based)
        --kafka HOST:PORT,...     use this Kafka instead of an embedded broker
        --zookeeper HOST:PORT,... use this ZooKeeper instead of an embedded server
        --partitions N            partitions of the session topic                  [12]
        --replication-factor N    replication factor of the session topic          [1]
        --tick-ms MS              game tick                                        [100]
        --stash-interval-ms MS    periodic stash of every session                  [1000]
        --session-timeout-ms MS   ZooKeeper session timeout of the nodes          [15000]
        --warmup-ms MS            play before the roll starts                      [3000]
        --settle-ms MS            play after each node is replaced                 [2000]
        --node-heap MB            max heap of each node JVM   [from sessions × state size]
        --run-dir DIR             where node logs go    [target/demo-runs/<time>, or a temp dir]
        --help                    print this and exit
      """;

  static final Set<String> VALUE_OPTIONS =
      Set.of(
          "nodes",
          "sessions",
          "state-size",
          "crash-node",
          "kafka",
          "zookeeper",
          "partitions",
          "replication-factor",
          "tick-ms",
          "stash-interval-ms",
          "session-timeout-ms",
          "warmup-ms",
          "settle-ms",
          "node-heap",
          "run-dir");
  static final Set<String> FLAGS = Set.of("crash", "help");

  /**
   * Parses command-line options, as {@code java -jar handoff-demo.jar} takes them ({@link #USAGE}).
   *
   * @throws IllegalArgumentException naming the bad option
   * @throws NodeSettings.HelpRequested for {@code --help}
   */
  public static DemoOptions parse(String... argv) {
    Args a = Args.parse(argv, VALUE_OPTIONS, FLAGS);
    if (a.flag("help")) {
      throw new NodeSettings.HelpRequested(USAGE);
    }
    int nodes = a.intValue("nodes", 3, 1, 50);
    int crashNode = a.intValue("crash-node", 0, 1, nodes);
    if (crashNode == 0 && a.flag("crash")) {
      crashNode = Math.min(2, nodes);
    }
    String kafka = a.get("kafka", null);
    String zookeeper = a.get("zookeeper", null);
    if ((kafka == null) != (zookeeper == null)) {
      throw new IllegalArgumentException(
          "--kafka and --zookeeper go together: give both to use existing servers, or neither for"
              + " embedded ones");
    }
    int sessions = a.intValue("sessions", 1000, 1, 1_000_000);
    int stateSize = a.intValue("state-size", 512, 0, 900_000);
    return new DemoOptions(
        nodes,
        sessions,
        stateSize,
        crashNode,
        kafka,
        zookeeper,
        a.intValue("partitions", 12, 1, 10_000),
        a.intValue("replication-factor", 1, 1, 100),
        a.intValue("tick-ms", 100, 10, 10_000),
        a.intValue("stash-interval-ms", 1000, 10, 600_000),
        // The library's default: a shorter timeout lets a busy machine expire live nodes.
        a.intValue("session-timeout-ms", 15_000, 400, 60_000),
        a.intValue("warmup-ms", 3000, 0, 3_600_000),
        a.intValue("settle-ms", 2000, 0, 3_600_000),
        a.has("run-dir") ? Path.of(a.get("run-dir", null)) : null,
        a.intValue("node-heap", nodeHeapFor(sessions, stateSize, nodes), 64, 65_536));
  }

  /**
   * The max heap a node JVM gets by default, in MiB: every node holds every session (its state plus
   * about 512 B of bookkeeping), plays its share of them, and needs room for Kafka client buffers
   * (an eighth of the heap), writes in flight (a tenth) and the collector, so the heap is 2.5 times
   * that estimate, at least 256 MiB, rounded up to 64 MiB.
   */
  static int nodeHeapFor(int sessions, int stateSize, int nodes) {
    long perSession = stateSize + 512L;
    long live = sessions * perSession + (sessions / nodes) * perSession + (48L << 20);
    long heap = Math.max(256, (live * 5 / 2 >> 20) + 1);
    return (int) Math.min(65_536, (heap + 63) / 64 * 64);
  }

  /** True if the demo starts its own ZooKeeper and Kafka. */
  public boolean embedded() {
    return kafka == null;
  }
}
