package dev.handoff.examples;

import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.StateCodec;
import dev.handoff.zk.ZkMembership;
import java.nio.file.Path;
import java.util.Map;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * The README's secured quickstart (SASL_SSL Kafka, TLS/SASL ZooKeeper), kept here so it compiles
 * and runs against secured servers (SecuredAccessTest).
 */
public final class SecuredQuickstart {
  private final StateHandoff<String> handoff;

  /**
   * @param jaasSection the section of the JAAS file ({@code -Djava.security.auth.login.config})
   *     that holds this node's ZooKeeper user and password
   */
  public SecuredQuickstart(
      String kafka,
      String kafkaUser,
      String kafkaPassword,
      String zookeeper,
      String jaasSection,
      Path truststore,
      String truststorePassword,
      String podName) {
    // --- README secured quickstart: begin
    Map<String, Object> kafkaSecurity =
        Map.of(
            "security.protocol",
            "SASL_SSL",
            "sasl.mechanism",
            "SCRAM-SHA-512",
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + (" username=\"" + kafkaUser + "\" password=\"" + kafkaPassword + "\";"),
            "ssl.truststore.location",
            truststore.toString(),
            "ssl.truststore.password",
            truststorePassword,
            "ssl.truststore.type",
            "PKCS12");
    KafkaDeltaLog log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka)
            .topic("game-sessions")
            .replicationFactor(1) // 3 in production (the default)
            .clientProperties(kafkaSecurity)
            .build();

    var zk = new ZKClientConfig();
    zk.setProperty("zookeeper.client.secure", "true"); // TLS
    zk.setProperty("zookeeper.clientCnxnSocket", "org.apache.zookeeper.ClientCnxnSocketNetty");
    zk.setProperty("zookeeper.ssl.trustStore.location", truststore.toString());
    zk.setProperty("zookeeper.ssl.trustStore.password", truststorePassword);
    zk.setProperty("zookeeper.ssl.trustStore.type", "PKCS12");
    zk.setProperty("zookeeper.sasl.clientconfig", jaasSection); // SASL DIGEST-MD5 via JAAS
    zk.setProperty("zookeeper.fips-mode", "false"); // in FIPS mode ZooKeeper refuses DIGEST-MD5
    ZkMembership membership =
        ZkMembership.builder()
            .connectString(zookeeper) // the servers' secureClientPort
            .root("/game-servers") // created by, and so owned by, this SASL user
            .group("game-servers")
            .memberId(podName)
            .zkClientConfig(zk) // the SASL user owns the znodes: creator-all + world-read
            .build();

    handoff =
        StateHandoff.<String>builder()
            .deltaLog(log)
            .membership(membership)
            .codec(StateCodec.utf8())
            .build();
    handoff.start().join();
    // --- README secured quickstart: end
  }

  public StateHandoff<String> handoff() {
    return handoff;
  }
}
