package dev.handoff.testkit.cluster;

import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.StateCodec;
import dev.handoff.zk.ZkMembership;
import java.time.Duration;
import org.apache.zookeeper.client.ZKClientConfig;

/** Wires a real node: KafkaDeltaLog + ZkMembership + StateHandoff with a UTF-8 state codec. */
final class NodeFactory {
  /**
   * Digest identity every test node shares on a plain ensemble: the default ACL needs an
   * authenticated session.
   */
  static final String ZK_USER = "handoff-test";

  static final String ZK_PASSWORD = "handoff-test-secret";

  private NodeFactory() {}

  /** A built, not yet started node and its membership (for fault injection). */
  record Built(StateHandoff<String> handoff, ZkMembership membership) {}

  static Built build(NodeConfig c) {
    var logBuilder =
        KafkaDeltaLog.builder()
            .bootstrapServers(c.bootstrapServers())
            .topic(c.topic())
            .partitions(c.partitions())
            .replicationFactor(c.replicationFactor())
            .minInSyncReplicas(Math.min(2, c.replicationFactor()))
            .clientProperty("client.id", "handoff-" + c.memberId())
            .clientProperties(c.kafkaClientProperties())
            .endedRetention(c.endedRetention());
    c.topicConfig().forEach(logBuilder::topicConfig);
    if (c.topicConfig().containsKey("delete.retention.ms")) {
      // Fast compaction drops tombstones within a second: a test cluster accepts that risk.
      logBuilder.acceptDataLossRisk("delete.retention.ms");
    }
    var membershipBuilder =
        ZkMembership.builder()
            .connectString(c.zookeeperConnect())
            .root("/handoff")
            .group(c.topic())
            .memberId(c.memberId())
            .host("127.0.0.1")
            .sessionTimeout(c.sessionTimeout())
            .connectionTimeout(Duration.ofSeconds(5));
    if (c.zookeeperClientProperties().isEmpty()) {
      membershipBuilder.digestAuth(ZK_USER, ZK_PASSWORD);
    } else {
      // A secured ensemble: the identity is the SASL one of the client configuration.
      var zk = new ZKClientConfig();
      c.zookeeperClientProperties().forEach(zk::setProperty);
      membershipBuilder.zkClientConfig(zk);
    }
    var membership = membershipBuilder.build();
    var handoff =
        StateHandoff.<String>builder()
            .deltaLog(logBuilder.build())
            .membership(membership)
            .codec(StateCodec.utf8())
            .name(c.memberId())
            .endedRetention(c.endedRetention())
            .sweepInterval(Duration.ofMillis(500))
            .operationTimeout(Duration.ofSeconds(60))
            .build();
    return new Built(handoff, membership);
  }
}
