package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.junit.jupiter.api.Test;

@HandoffTest(kafkaBrokers = 0, zookeeperServers = 1)
class ZooKeeperOnlyEnvironmentTest {

  @Test
  void environmentWithoutKafkaServesZooKeeperAndSaysKafkaIsAbsent(HandoffEnvironment env)
      throws Exception {
    assertThat(env.kafkaBrokers()).isZero();
    assertThat(env.zookeeperServers()).isEqualTo(1);
    assertThatThrownBy(env::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("kafkaBrokers = 0");

    try (var c =
        CuratorFrameworkFactory.newClient(
            env.zookeeperConnect(), 30_000, 10_000, new RetryNTimes(50, 100))) {
      c.start();
      assertThat(c.blockUntilConnected(20, TimeUnit.SECONDS)).isTrue();
      c.create().forPath("/only-zk", "x".getBytes(StandardCharsets.UTF_8));
      assertThat(c.getData().forPath("/only-zk")).isEqualTo("x".getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void zooKeeperServerCanBeStoppedAndRestartedThroughTheEnvironment(
      HandoffEnvironment env, EmbeddedZooKeeper zk) {
    env.stopZooKeeperServer(0);
    assertThat(Loopback.isListening(zk.clientPort(0))).isFalse();
    env.restartZooKeeperServer(0);
    assertThat(Loopback.isListening(zk.clientPort(0))).isTrue();
  }
}
