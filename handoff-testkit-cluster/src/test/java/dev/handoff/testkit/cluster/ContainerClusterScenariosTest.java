package dev.handoff.testkit.cluster;

import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.containers.RequiresDocker;
import dev.handoff.testkit.containers.TestcontainersEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The {@link ClusterScenarios} on Kafka and ZooKeeper in Docker containers ({@link
 * TestcontainersEnvironment}; images from {@code handoff.kafka.image} / {@code
 * handoff.zookeeper.image}). Skipped, with the reason, where no Docker daemon answers.
 */
@RequiresDocker
class ContainerClusterScenariosTest extends ClusterScenarios {
  private static TestcontainersEnvironment env;

  @BeforeAll
  static void startContainers() {
    env = TestcontainersEnvironment.builder().fastCompaction(true).start();
  }

  @AfterAll
  static void stopContainers() {
    if (env != null) {
      env.close();
      env = null;
    }
  }

  @Override
  protected HandoffEnvironment env() {
    return env;
  }
}
