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
 * @param modes how each node is replaced, in roll order ({@code drain}, {@code restart}, {@code
 *     crash}); one entry applies to every node ({@code crashNode} overrides it for that node)
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
 */
public record DemoOptions(
    int nodes,
    int sessions,
    int stateSize,
    int crashNode,
    java.util.List<String> modes,
    String kafka,
    String zookeeper,
    int partitions,
    int replicationFactor,
    int tickMillis,
    int stashMillis,
    int sessionTimeoutMillis,
    int warmupMillis,
    int settleMillis,
    Path runDir) {

  /** The options, as {@code --help} prints them. */
  public static final String USAGE =
      """
      Usage: java -jar handoff-demo.jar [options]

      Runs a game cluster through a rolling deploy: starts ZooKeeper and Kafka (embedded, unless
      --kafka/--zookeeper are given), starts the nodes at version v1 hosting the sessions, then
      replaces every node, one at a time, by a v2 node (v2's state schema adds a field with a
      default) while the sessions keep ticking. Prints live progress, then a report; the exit code
      is 1 if any session was lost, stale or duplicated.

      Modes (--mode), as Kubernetes would replace a pod:
        drain    a Deployment with maxSurge: a new v2 node starts and is RUNNING, then the old one
                 gets SIGTERM and hands each session to the newest version, one at a time
        restart  a StatefulSet: the old node gets SIGTERM and stashes every session; then a v2
                 node with the same member id starts and adopts them
        crash    the old node gets SIGKILL; a v2 node with its member id adopts its sessions from
                 their last periodic stash once ZooKeeper expired the dead one

      Options:
        --nodes N                 nodes (JVMs) in the cluster                      [3]
        --sessions N              game sessions                                    [1000]
        --state-size BYTES        approximate size of one session's state          [512]
        --mode M[,M...]           drain, restart or crash; one for every node, or one
                                  per node in roll order                           [drain]
        --crash                   node 2 in crash mode
        --crash-node I            node I (1-based) in crash mode
        --kafka HOST:PORT,...     use this Kafka instead of an embedded broker
        --zookeeper HOST:PORT,... use this ZooKeeper instead of an embedded server
        --partitions N            partitions of the session topic                  [12]
        --replication-factor N    replication factor of the session topic          [1]
        --tick-ms MS              game tick                                        [100]
        --stash-interval-ms MS    periodic stash of every session                  [1000]
        --session-timeout-ms MS   ZooKeeper session timeout of the nodes           [3000]
        --warmup-ms MS            play before the roll starts                      [3000]
        --settle-ms MS            play after each node is replaced                 [2000]
        --run-dir DIR             where node logs go    [target/demo-runs/<time>, or a temp dir]
        --help                    print this and exit
      """;

  static final Set<String> VALUE_OPTIONS =
      Set.of(
          "nodes",
          "sessions",
          "state-size",
          "crash-node",
          "mode",
          "kafka",
          "zookeeper",
          "partitions",
          "replication-factor",
          "tick-ms",
          "stash-interval-ms",
          "session-timeout-ms",
          "warmup-ms",
          "settle-ms",
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
    var modes = java.util.List.of(a.get("mode", "drain").split(",", -1));
    for (String m : modes) {
      if (!MODES.contains(m)) {
        throw new IllegalArgumentException(
            "option --mode must be drain, restart or crash (or a list of them), was '"
                + a.get("mode", "")
                + "'");
      }
    }
    if (modes.size() != 1 && modes.size() != nodes) {
      throw new IllegalArgumentException(
          "option --mode needs one mode or one per node (" + nodes + "), was " + modes.size());
    }
    return new DemoOptions(
        nodes,
        a.intValue("sessions", 1000, 1, 1_000_000),
        a.intValue("state-size", 512, 0, 900_000),
        crashNode,
        modes,
        kafka,
        zookeeper,
        a.intValue("partitions", 12, 1, 10_000),
        a.intValue("replication-factor", 1, 1, 100),
        a.intValue("tick-ms", 100, 10, 10_000),
        a.intValue("stash-interval-ms", 1000, 10, 600_000),
        a.intValue("session-timeout-ms", 3000, 400, 60_000),
        a.intValue("warmup-ms", 3000, 0, 3_600_000),
        a.intValue("settle-ms", 2000, 0, 3_600_000),
        a.has("run-dir") ? Path.of(a.get("run-dir", null)) : null);
  }

  /** The modes {@code --mode} takes. */
  static final Set<String> MODES = Set.of("drain", "restart", "crash");

  /** How node {@code i} (1-based) is replaced: {@code drain}, {@code restart} or {@code crash}. */
  public String mode(int i) {
    if (i == crashNode) {
      return "crash";
    }
    return modes.size() == 1 ? modes.get(0) : modes.get(i - 1);
  }

  /** True if the demo starts its own ZooKeeper and Kafka. */
  public boolean embedded() {
    return kafka == null;
  }
}
