package dev.handoff.testkit.cluster;

import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.HandoffTest;

/** The {@link ClusterScenarios} on Kafka and ZooKeeper embedded in the test JVM. */
@HandoffTest(kafkaBrokers = 1, zookeeperServers = 1, fastCompaction = true)
class EmbeddedClusterScenariosTest extends ClusterScenarios {
  private final HandoffEnvironment env;

  EmbeddedClusterScenariosTest(HandoffEnvironment env) {
    this.env = env;
  }

  @Override
  protected HandoffEnvironment env() {
    return env;
  }
}
