package dev.handoff.demo;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
 * @param nodeHeapMegabytes max heap of every node JVM: {@code --node-heap}, or {@link #nodeHeapFor}
 *     the sessions, their size and the nodes
 */
public record DemoOptions(
    int nodes,
    int sessions,
    int stateSize,
    int crashNode,
    List<String> modes,
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

  /** The command line as picocli reads it; {@link #parse} checks ranges and builds the record. */
  @Command(
      name = "java -jar handoff-demo.jar",
      sortOptions = false,
      usageHelpWidth = 100,
      customSynopsis = "java -jar handoff-demo.jar [options]",
      description = {
        "Runs a game cluster through a rolling deploy: starts ZooKeeper and Kafka (embedded, unless"
            + " --kafka/--zookeeper are given), starts the nodes at version v1 hosting the sessions,"
            + " then replaces every node, one at a time, by a v2 node (v2's state schema adds a"
            + " field with a default) while the sessions keep ticking. Prints live progress, then a"
            + " report; the exit code is 1 if any session was lost, stale or duplicated.",
        "",
        // One line each, indented by hand: picocli would wrap a long line to the left margin.
        "Modes (--mode), as Kubernetes would replace a pod:",
        "  drain    a Deployment with maxSurge: a new v2 node starts and is RUNNING, then the old one",
        "           gets SIGTERM and hands each session to the newest version, one at a time",
        "  restart  a StatefulSet: the old node gets SIGTERM and stashes every session; then a v2",
        "           node with the same member id starts and adopts them",
        "  crash    the old node gets SIGKILL; a v2 node with its member id adopts its sessions from",
        "           their last periodic stash once ZooKeeper expired the dead one",
        ""
      })
  static final class CommandLineOptions {
    @Option(
        names = "--nodes",
        paramLabel = "N",
        defaultValue = "3",
        description = "nodes (JVMs) in the cluster [${DEFAULT-VALUE}]")
    int nodes;

    @Option(
        names = "--sessions",
        paramLabel = "N",
        defaultValue = "1000",
        description = "game sessions [${DEFAULT-VALUE}]")
    int sessions;

    @Option(
        names = "--state-size",
        paramLabel = "BYTES",
        defaultValue = "512",
        description = "approximate size of one session's state [${DEFAULT-VALUE}]")
    int stateSize;

    @Option(
        names = "--mode",
        paramLabel = "M[,M...]",
        defaultValue = "drain",
        description =
            "drain, restart or crash; one for every node, or one per node in roll order"
                + " [${DEFAULT-VALUE}]")
    String mode;

    @Option(names = "--crash", description = "node 2 in crash mode")
    boolean crash;

    @Option(
        names = "--crash-node",
        paramLabel = "I",
        description = "node I (1-based) in crash mode")
    Integer crashNode;

    @Option(
        names = "--kafka",
        paramLabel = "HOST:PORT,...",
        description = "use this Kafka instead of an embedded broker")
    String kafka;

    @Option(
        names = "--zookeeper",
        paramLabel = "HOST:PORT,...",
        description = "use this ZooKeeper instead of an embedded server")
    String zookeeper;

    @Option(
        names = "--partitions",
        paramLabel = "N",
        defaultValue = "12",
        description = "partitions of the session topic [${DEFAULT-VALUE}]")
    int partitions;

    @Option(
        names = "--replication-factor",
        paramLabel = "N",
        defaultValue = "1",
        description = "replication factor of the session topic [${DEFAULT-VALUE}]")
    int replicationFactor;

    @Option(
        names = "--tick-ms",
        paramLabel = "MS",
        defaultValue = "100",
        description = "game tick [${DEFAULT-VALUE}]")
    int tickMillis;

    @Option(
        names = "--stash-interval-ms",
        paramLabel = "MS",
        description = "periodic stash of every session [max(1000, sessions/20)]")
    Integer stashMillis;

    @Option(
        names = "--session-timeout-ms",
        paramLabel = "MS",
        // The library's default: a shorter one let a busy machine expire live nodes (issue 16).
        defaultValue = "15000",
        description = "ZooKeeper session timeout of the nodes [${DEFAULT-VALUE}]")
    int sessionTimeoutMillis;

    @Option(
        names = "--warmup-ms",
        paramLabel = "MS",
        defaultValue = "3000",
        description = "play before the roll starts [${DEFAULT-VALUE}]")
    int warmupMillis;

    @Option(
        names = "--settle-ms",
        paramLabel = "MS",
        defaultValue = "2000",
        description = "play after each node is replaced [${DEFAULT-VALUE}]")
    int settleMillis;

    @Option(
        names = "--node-heap",
        paramLabel = "MB",
        description = "max heap of each node JVM [from sessions × state size]")
    Integer nodeHeap;

    @Option(
        names = "--run-dir",
        paramLabel = "DIR",
        description = "where node logs go [target/demo-runs/<time>, or a temp dir]")
    Path runDir;

    @Option(names = "--help", usageHelp = true, description = "print this and exit")
    boolean help;
  }

  /** The options, as {@code --help} prints them. */
  public static final String USAGE = Options.usage(new CommandLineOptions());

  /**
   * Parses command-line options, as {@code java -jar handoff-demo.jar} takes them ({@link #USAGE}).
   *
   * @throws IllegalArgumentException naming the bad option
   * @throws NodeSettings.HelpRequested for {@code --help}
   */
  public static DemoOptions parse(String... argv) {
    var o = Options.parse(new CommandLineOptions(), USAGE, argv);
    int nodes = Options.range("nodes", o.nodes, 1, 50);
    int crashNode = o.crashNode == null ? 0 : Options.range("crash-node", o.crashNode, 1, nodes);
    if (crashNode == 0 && o.crash) {
      crashNode = Math.min(2, nodes);
    }
    if ((o.kafka == null) != (o.zookeeper == null)) {
      throw new IllegalArgumentException(
          "--kafka and --zookeeper go together: give both to use existing servers, or neither for"
              + " embedded ones");
    }
    var modes = List.of(o.mode.split(",", -1));
    for (String m : modes) {
      if (!MODES.contains(m)) {
        throw new IllegalArgumentException(
            "option --mode must be drain, restart or crash (or a list of them), was '"
                + o.mode
                + "'");
      }
    }
    if (modes.size() != 1 && modes.size() != nodes) {
      throw new IllegalArgumentException(
          "option --mode needs one mode or one per node (" + nodes + "), was " + modes.size());
    }
    int sessions = Options.range("sessions", o.sessions, 1, 1_000_000);
    int stateSize = Options.range("state-size", o.stateSize, 0, 900_000);
    return new DemoOptions(
        nodes,
        sessions,
        stateSize,
        crashNode,
        modes,
        o.kafka,
        o.zookeeper,
        Options.range("partitions", o.partitions, 1, 10_000),
        Options.range("replication-factor", o.replicationFactor, 1, 100),
        Options.range("tick-ms", o.tickMillis, 10, 10_000),
        o.stashMillis == null
            ? stashMillisFor(sessions)
            : Options.range("stash-interval-ms", o.stashMillis, 10, 600_000),
        Options.range("session-timeout-ms", o.sessionTimeoutMillis, 400, 60_000),
        Options.range("warmup-ms", o.warmupMillis, 0, 3_600_000),
        Options.range("settle-ms", o.settleMillis, 0, 3_600_000),
        o.runDir,
        o.nodeHeap == null
            ? nodeHeapFor(sessions, stateSize, nodes)
            : Options.range("node-heap", o.nodeHeap, 64, 65_536));
  }

  /**
   * The periodic stash interval by default: every second, but no more than 20,000 periodic stashes
   * a second across the cluster (about what one 2-core machine running the broker and every node
   * sustains: at 100,000 sessions a second each, the stashes alone saturated it and a drain's
   * transfers moved 155 a second, too slow for the shutdown budget).
   */
  static int stashMillisFor(int sessions) {
    return Math.max(1000, sessions / 20);
  }

  /**
   * The max heap a node JVM gets by default, in MiB: every node holds every session (its state plus
   * about 512 B of bookkeeping), plays its share of them, and needs room for Kafka client buffers,
   * writes in flight and the collector, so the heap is 2.5 times that estimate, at least 256 MiB,
   * rounded up to 64 MiB.
   */
  static int nodeHeapFor(int sessions, int stateSize, int nodes) {
    long perSession = stateSize + 512L;
    long live = sessions * perSession + (sessions / nodes) * perSession + (48L << 20);
    long heap = Math.max(256, (live * 5 / 2 >> 20) + 1);
    return (int) Math.min(65_536, (heap + 63) / 64 * 64);
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
