package dev.handoff.testkit.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a Handoff node of a test cluster needs to start: where Kafka and ZooKeeper are, the topic,
 * its identity and timings. Turned into command-line arguments for a node in its own JVM.
 */
record NodeConfig(
    String bootstrapServers,
    String zookeeperConnect,
    String topic,
    int partitions,
    int replicationFactor,
    String memberId,
    Duration sessionTimeout,
    Duration endedRetention,
    Map<String, String> topicConfig) {

  List<String> toArgs() {
    var args = new ArrayList<String>();
    add(args, "bootstrap", bootstrapServers);
    add(args, "zookeeper", zookeeperConnect);
    add(args, "topic", topic);
    add(args, "partitions", Integer.toString(partitions));
    add(args, "replication-factor", Integer.toString(replicationFactor));
    add(args, "member-id", memberId);
    add(args, "session-timeout-ms", Long.toString(sessionTimeout.toMillis()));
    add(args, "ended-retention-ms", Long.toString(endedRetention.toMillis()));
    topicConfig.forEach((k, v) -> add(args, "topic-config", k + "=" + v));
    return args;
  }

  static NodeConfig fromArgs(String[] argv) {
    var single = new TreeMap<String, String>();
    var topicConfig = new TreeMap<String, String>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      String name = argv[i].replaceFirst("^--", "");
      if (name.equals("topic-config")) {
        String[] kv = argv[i + 1].split("=", 2);
        topicConfig.put(kv[0], kv[1]);
      } else {
        single.put(name, argv[i + 1]);
      }
    }
    return new NodeConfig(
        need(single, "bootstrap"),
        need(single, "zookeeper"),
        need(single, "topic"),
        Integer.parseInt(need(single, "partitions")),
        Integer.parseInt(need(single, "replication-factor")),
        need(single, "member-id"),
        Duration.ofMillis(Long.parseLong(need(single, "session-timeout-ms"))),
        Duration.ofMillis(Long.parseLong(need(single, "ended-retention-ms"))),
        topicConfig);
  }

  private static void add(List<String> args, String name, String value) {
    args.add("--" + name);
    args.add(value);
  }

  private static String need(Map<String, String> m, String name) {
    String v = m.get(name);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + name);
    }
    return v;
  }
}
