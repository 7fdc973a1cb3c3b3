package dev.handoff.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

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

  static final Set<String> VALUE_OPTIONS =
      Set.of(
          "kafka",
          "zookeeper",
          "topic",
          "partitions",
          "replication-factor",
          "member-id",
          "version",
          "sessions",
          "nodes",
          "index",
          "state-size",
          "tick-ms",
          "stash-interval-ms",
          "session-timeout-ms",
          "on-shutdown");
  static final Set<String> FLAGS = Set.of("create", "protocol", "help");

  static final String USAGE =
      """
      Usage: java -cp handoff-demo.jar dev.handoff.demo.GameNode --kafka HOST:PORT --zookeeper HOST:PORT
               --member-id ID [--version v1|v2] [--create --sessions N --nodes N --index I]
               [--topic T] [--partitions N] [--replication-factor N] [--state-size BYTES]
               [--tick-ms MS] [--stash-interval-ms MS] [--session-timeout-ms MS]
               [--on-shutdown drain|stash] [--protocol]

      One game server node. On start it adopts every session that an earlier incarnation of its
      member id owned (once that incarnation has gone), and with --create it creates its share of
      the sessions that do not exist yet; it resumes the sessions other nodes hand to it. It ticks
      its sessions and stashes each one periodically. On SIGTERM, with --on-shutdown drain (the
      default) it hands each session to a running node of the newest version, one at a time, and
      stashes what none took; with --on-shutdown stash it stashes all of them for a successor with
      its member id. Then it leaves the cluster.
      """;

  static NodeSettings parse(String[] argv) {
    Args a = Args.parse(argv, VALUE_OPTIONS, FLAGS);
    if (a.flag("help")) {
      throw new HelpRequested(USAGE);
    }
    boolean create = a.flag("create");
    int nodes = a.intValue("nodes", 1, 1, 1000);
    String version = a.get("version", GameSchemas.V1);
    GameSchemas.forVersion(version);
    return new NodeSettings(
        a.require("kafka"),
        a.require("zookeeper"),
        a.get("topic", "handoff-demo"),
        a.intValue("partitions", 12, 1, 10_000),
        a.intValue("replication-factor", 1, 1, 100),
        a.require("member-id"),
        version,
        create,
        create ? a.intValue("sessions", 1000, 0, 10_000_000) : 0,
        nodes,
        a.intValue("index", 1, 1, nodes),
        a.intValue("state-size", 512, 0, 900_000),
        a.intValue("tick-ms", 100, 1, 60_000),
        a.intValue("stash-interval-ms", 1000, 1, 3_600_000),
        a.intValue("session-timeout-ms", 3000, 400, 60_000),
        onShutdown(a.get("on-shutdown", DRAIN)),
        a.flag("protocol"));
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
