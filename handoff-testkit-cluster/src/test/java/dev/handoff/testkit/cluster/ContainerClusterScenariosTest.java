package dev.handoff.testkit.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.containers.TestcontainersEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ClusterScenarios} on Kafka and ZooKeeper in Docker containers ({@link
 * TestcontainersEnvironment}; images from {@code handoff.kafka.image} / {@code
 * handoff.zookeeper.image}). Skipped, with the reason, where no Docker daemon answers.
 */
class ContainerClusterScenariosTest extends ClusterScenarios {
  private static final Logger log = LoggerFactory.getLogger(ContainerClusterScenariosTest.class);
  private static TestcontainersEnvironment env;

  @BeforeAll
  static void startContainers() {
    var unavailable = TestcontainersEnvironment.dockerUnavailableReason();
    unavailable.ifPresent(reason -> log.warn("container scenarios skipped: {}", reason));
    assumeTrue(unavailable.isEmpty(), () -> "container scenarios skipped: " + unavailable.get());
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
