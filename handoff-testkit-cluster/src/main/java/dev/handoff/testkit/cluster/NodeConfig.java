package dev.handoff.testkit.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a Handoff node of a test cluster needs to start: where Kafka and ZooKeeper are, the topic,
 * its identity and timings, and the client security settings of a secured environment (empty maps
 * and no JAAS file on a plain one). Turned into command-line arguments for a node in its own JVM.
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
    Map<String, String> topicConfig,
    Map<String, String> kafkaClientProperties,
    Map<String, String> zookeeperClientProperties,
    String zookeeperJaasFile) {

  /** A node of a plain environment: no client security settings. */
  NodeConfig(
      String bootstrapServers,
      String zookeeperConnect,
      String topic,
      int partitions,
      int replicationFactor,
      String memberId,
      Duration sessionTimeout,
      Duration endedRetention,
      Map<String, String> topicConfig) {
    this(
        bootstrapServers,
        zookeeperConnect,
        topic,
        partitions,
        replicationFactor,
        memberId,
        sessionTimeout,
        endedRetention,
        topicConfig,
        Map.of(),
        Map.of(),
        null);
  }

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
    kafkaClientProperties.forEach((k, v) -> add(args, "kafka-client", k + "=" + v));
    zookeeperClientProperties.forEach((k, v) -> add(args, "zookeeper-client", k + "=" + v));
    if (zookeeperJaasFile != null) {
      add(args, "zookeeper-jaas", zookeeperJaasFile);
    }
    return args;
  }

  static NodeConfig fromArgs(String[] argv) {
    var single = new TreeMap<String, String>();
    var multi =
        Map.<String, Map<String, String>>of(
            "topic-config", new TreeMap<>(),
            "kafka-client", new TreeMap<>(),
            "zookeeper-client", new TreeMap<>());
    for (int i = 0; i + 1 < argv.length; i += 2) {
      String name = argv[i].replaceFirst("^--", "");
      Map<String, String> into = multi.get(name);
      if (into != null) {
        String[] kv = argv[i + 1].split("=", 2);
        into.put(kv[0], kv[1]);
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
        multi.get("topic-config"),
        multi.get("kafka-client"),
        multi.get("zookeeper-client"),
        single.get("zookeeper-jaas"));
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
