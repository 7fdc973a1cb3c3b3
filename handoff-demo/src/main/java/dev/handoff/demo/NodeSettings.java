package dev.handoff.demo;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How one {@link GameNode} runs: where Kafka and ZooKeeper are, which member it is, which version
 * of the game it runs, and which sessions it creates if they do not exist yet.
 *
 * @param kafka Kafka bootstrap servers
 * @param zookeeper ZooKeeper connect string
 * @param topic the compacted topic of session states (also the ZooKeeper group)
 * @param partitions partitions of the topic, if this node creates it
 * @param replicationFactor replication factor of the topic, if this node creates it
 * @param memberId the member id; a replacement node keeps the id of the node it replaces
 * @param version {@code v1} or {@code v2}: the game version and its state schema
 * @param create whether to create this node's share of the sessions that do not exist yet
 * @param sessions how many sessions the whole cluster runs (for {@code create})
 * @param nodes how many nodes share them (for {@code create})
 * @param index this node's share: sessions {@code j} with {@code (j - 1) % nodes == index - 1}
 * @param stateSize approximate encoded bytes of one session's state
 * @param tickMillis game tick period
 * @param stashMillis how often each hosted session is stashed (for crash recovery)
 * @param sessionTimeoutMillis ZooKeeper session timeout (how soon a crashed node is seen gone)
 * @param onShutdown what SIGTERM does: {@code drain} hands every session to a running peer of the
 *     newest version (a Deployment's surge node), falling back to a stash; {@code stash} stashes
 *     every session for a successor with the same member id (a StatefulSet's restarted pod)
 * @param protocol true when driven by the orchestrator: machine-readable lines on stdout, and the
 *     node stops (gracefully) when its standard input closes
 */
record NodeSettings(
    String kafka,
    String zookeeper,
    String topic,
    int partitions,
    int replicationFactor,
    String memberId,
    String version,
    boolean create,
    int sessions,
    int nodes,
    int index,
    int stateSize,
    int tickMillis,
    int stashMillis,
    int sessionTimeoutMillis,
    String onShutdown,
    boolean protocol) {

  /** {@code --on-shutdown drain}: hand the sessions to running peers. */
  static final String DRAIN = "drain";

  /** {@code --on-shutdown stash}: stash the sessions for a successor that adopts them. */
  static final String STASH = "stash";

  /** The command line as picocli reads it; {@link #parse} checks ranges and builds the record. */
  @Command(
      name = "java -cp handoff-demo.jar dev.handoff.demo.GameNode",
      sortOptions = false,
      usageHelpWidth = 100,
      customSynopsis = {
        "java -cp handoff-demo.jar dev.handoff.demo.GameNode --kafka HOST:PORT",
        "    --zookeeper HOST:PORT --member-id ID [options]"
      },
      description = {
        "One game server node. On start it adopts every session that an earlier incarnation of its"
            + " member id owned (once that incarnation has gone), and with --create it creates its"
            + " share of the sessions that do not exist yet; it resumes the sessions other nodes"
            + " hand to it. It ticks its sessions and stashes each one periodically. On SIGTERM,"
            + " with --on-shutdown drain (the default) it hands each session to a running node of"
            + " the newest version, one at a time, and stashes what none took; with --on-shutdown"
            + " stash it stashes all of them for a successor with its member id. Then it leaves the"
            + " cluster.",
        ""
      })
  static final class CommandLineOptions {
    @Option(names = "--kafka", paramLabel = "HOST:PORT", required = true, description = "Kafka")
    String kafka;

    @Option(
        names = "--zookeeper",
        paramLabel = "HOST:PORT",
        required = true,
        description = "ZooKeeper")
    String zookeeper;

    @Option(
        names = "--member-id",
        paramLabel = "ID",
        required = true,
        description = "member id; a replacement keeps the id of the node it replaces")
    String memberId;

    @Option(
        names = "--version",
        paramLabel = "v1|v2",
        defaultValue = GameSchemas.V1,
        description = "game version and state schema [${DEFAULT-VALUE}]")
    String version;

    @Option(
        names = "--create",
        description = "create this node's share of the sessions that do not exist yet")
    boolean create;

    @Option(
        names = "--sessions",
        paramLabel = "N",
        defaultValue = "1000",
        description = "sessions of the whole cluster, with --create [${DEFAULT-VALUE}]")
    int sessions;

    @Option(
        names = "--nodes",
        paramLabel = "N",
        defaultValue = "1",
        description = "nodes sharing them, with --create [${DEFAULT-VALUE}]")
    int nodes;

    @Option(
        names = "--index",
        paramLabel = "I",
        defaultValue = "1",
        description = "this node's share (1-based), with --create [${DEFAULT-VALUE}]")
    int index;

    @Option(
        names = "--topic",
        paramLabel = "T",
        defaultValue = "handoff-demo",
        description = "session topic, also the ZooKeeper group [${DEFAULT-VALUE}]")
    String topic;

    @Option(
        names = "--partitions",
        paramLabel = "N",
        defaultValue = "12",
        description = "partitions, if this node creates the topic [${DEFAULT-VALUE}]")
    int partitions;

    @Option(
        names = "--replication-factor",
        paramLabel = "N",
        defaultValue = "1",
        description = "replication factor, if this node creates the topic [${DEFAULT-VALUE}]")
    int replicationFactor;

    @Option(
        names = "--state-size",
        paramLabel = "BYTES",
        defaultValue = "512",
        description = "approximate size of one session's state [${DEFAULT-VALUE}]")
    int stateSize;

    @Option(
        names = "--tick-ms",
        paramLabel = "MS",
        defaultValue = "100",
        description = "game tick [${DEFAULT-VALUE}]")
    int tickMillis;

    @Option(
        names = "--stash-interval-ms",
        paramLabel = "MS",
        defaultValue = "1000",
        description = "periodic stash of every session [${DEFAULT-VALUE}]")
    int stashMillis;

    @Option(
        names = "--session-timeout-ms",
        paramLabel = "MS",
        defaultValue = "15000",
        description = "ZooKeeper session timeout [${DEFAULT-VALUE}]")
    int sessionTimeoutMillis;

    @Option(
        names = "--on-shutdown",
        paramLabel = "drain|stash",
        defaultValue = DRAIN,
        description =
            "on SIGTERM, hand the sessions to running peers or stash them for a successor"
                + " [${DEFAULT-VALUE}]")
    String onShutdown;

    @Option(
        names = "--protocol",
        description = "machine-readable lines on stdout; stop when stdin closes")
    boolean protocol;

    @Option(names = "--help", usageHelp = true, description = "print this and exit")
    boolean help;
  }

  static final String USAGE = Options.usage(new CommandLineOptions());

  static NodeSettings parse(String[] argv) {
    var o = Options.parse(new CommandLineOptions(), USAGE, argv);
    GameSchemas.forVersion(o.version);
    int nodes = Options.range("nodes", o.nodes, 1, 1000);
    return new NodeSettings(
        o.kafka,
        o.zookeeper,
        o.topic,
        Options.range("partitions", o.partitions, 1, 10_000),
        Options.range("replication-factor", o.replicationFactor, 1, 100),
        o.memberId,
        o.version,
        o.create,
        o.create ? Options.range("sessions", o.sessions, 0, 10_000_000) : 0,
        nodes,
        Options.range("index", o.index, 1, nodes),
        Options.range("state-size", o.stateSize, 0, 900_000),
        Options.range("tick-ms", o.tickMillis, 1, 60_000),
        Options.range("stash-interval-ms", o.stashMillis, 1, 3_600_000),
        Options.range("session-timeout-ms", o.sessionTimeoutMillis, 400, 60_000),
        onShutdown(o.onShutdown),
        o.protocol);
  }

  List<String> toArgs() {
    var out = new ArrayList<String>();
    add(out, "kafka", kafka);
    add(out, "zookeeper", zookeeper);
    add(out, "topic", topic);
    add(out, "partitions", partitions);
    add(out, "replication-factor", replicationFactor);
    add(out, "member-id", memberId);
    add(out, "version", version);
    if (create) {
      out.add("--create");
      add(out, "sessions", sessions);
      add(out, "nodes", nodes);
      add(out, "index", index);
    }
    add(out, "state-size", stateSize);
    add(out, "tick-ms", tickMillis);
    add(out, "stash-interval-ms", stashMillis);
    add(out, "session-timeout-ms", sessionTimeoutMillis);
    add(out, "on-shutdown", onShutdown);
    if (protocol) {
      out.add("--protocol");
    }
    return out;
  }

  private static String onShutdown(String v) {
    if (!v.equals(DRAIN) && !v.equals(STASH)) {
      throw new IllegalArgumentException(
          "option --on-shutdown must be drain or stash, was '" + v + "'");
    }
    return v;
  }

  /** The id of session {@code j} (1-based) of a cluster running {@code total} sessions. */
  static String sessionId(int j, int total) {
    int width = Math.max(4, Integer.toString(total).length());
    return "game-" + String.format("%0" + width + "d", j);
  }

  private static void add(List<String> out, String name, Object value) {
    out.add("--" + name);
    out.add(String.valueOf(value));
  }

  /** --help was given: the message is the usage text. */
  static final class HelpRequested extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HelpRequested(String usage) {
      super(usage, null, false, false);
    }
  }
}
