package dev.handoff.testkit.cluster;

import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.HandoffTest;

/**
 * The {@link ClusterScenarios} on secured servers embedded in the test JVM: Kafka with SASL_SSL
 * (SCRAM-SHA-512) and ACLs, the nodes authenticating as a user that has only the topic ACLs the
 * README lists; ZooKeeper with a TLS client port and SASL required, the nodes authenticating with
 * DIGEST-MD5 (process nodes through a JAAS file).
 */
@HandoffTest(
    kafkaBrokers = 1,
    zookeeperServers = 1,
    fastCompaction = true,
    kafkaSaslSsl = true,
    zookeeperTlsSasl = true)
class SecuredClusterScenariosTest extends ClusterScenarios {
  private final HandoffEnvironment env;

  SecuredClusterScenariosTest(HandoffEnvironment env) {
    this.env = env;
  }

  @Override
  protected HandoffEnvironment env() {
    return env;
  }
}
