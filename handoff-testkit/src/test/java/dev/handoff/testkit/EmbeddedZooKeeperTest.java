package dev.handoff.testkit;

import static dev.handoff.testkit.StartTimes.timed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.junit.jupiter.api.Test;

class EmbeddedZooKeeperTest {
  // Far longer than any wait below: a node can only vanish in time through a real server expiry.
  private static final int SESSION_TIMEOUT_MS = 30_000;

  @Test
  void ephemeralNodeVanishesWhenTheServerExpiresItsSession() throws Exception {
    try (var zk = timed("ZooKeeper single", EmbeddedZooKeeper::start)) {
      assertEphemeralNodeVanishesOnExpiry(zk);
    }
  }

  @Test
  void ephemeralNodeVanishesWhenTheEnsembleExpiresItsSession() throws Exception {
    try (var zk = timed("ZooKeeper ensemble of 3", () -> EmbeddedZooKeeper.startEnsemble(3))) {
      assertThat(zk.servers()).isEqualTo(3);
      assertEphemeralNodeVanishesOnExpiry(zk);
    }
  }

  @Test
  void sessionSurvivesLossOfItsServerInAnEnsembleAndTheServerComesBack() throws Exception {
    try (var zk = EmbeddedZooKeeper.startEnsemble(3);
        var owner = client(zk)) {
      owner.create().withMode(CreateMode.EPHEMERAL).forPath("/member-b");
      int served = zk.serverIndexOf(owner.getZookeeperClient().getZooKeeper());
      assertThat(served).isBetween(0, 2);

      zk.stopServer(served);
      assertThat(zk.isRunning(served)).isFalse();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                int now = zk.serverIndexOf(owner.getZookeeperClient().getZooKeeper());
                return now >= 0 && now != served;
              });
      assertThat(owner.checkExists().forPath("/member-b")).isNotNull();

      zk.restartServer(served);
      assertThat(zk.isRunning(served)).isTrue();
      try (var direct = client("127.0.0.1:" + zk.clientPort(served))) {
        assertThat(direct.checkExists().forPath("/member-b")).isNotNull();
      }
    }
  }

  @Test
  void standaloneServerKeepsItsDataAcrossARestart() throws Exception {
    try (var zk = EmbeddedZooKeeper.start()) {
      try (var c = client(zk)) {
        c.create().forPath("/kept", "v1".getBytes(StandardCharsets.UTF_8));
      }
      zk.stopServer(0);
      assertThat(Loopback.isListening(zk.clientPort(0))).isFalse();
      zk.restartServer(0);
      try (var c = client(zk)) {
        assertThat(new String(c.getData().forPath("/kept"), StandardCharsets.UTF_8))
            .isEqualTo("v1");
      }
    }
  }

  private static void assertEphemeralNodeVanishesOnExpiry(EmbeddedZooKeeper zk) throws Exception {
    try (var owner = client(zk);
        var observer = client(zk)) {
      List<ConnectionState> ownerStates = new CopyOnWriteArrayList<>();
      owner.getConnectionStateListenable().addListener((c, state) -> ownerStates.add(state));
      owner.create().withMode(CreateMode.EPHEMERAL).forPath("/member-a");
      long oldSession = owner.getZookeeperClient().getZooKeeper().getSessionId();

      var deleted = new AtomicBoolean();
      assertThat(
              observer
                  .checkExists()
                  .usingWatcher(
                      (org.apache.zookeeper.Watcher)
                          e -> {
                            if (e.getType() == EventType.NodeDeleted) {
                              deleted.set(true);
                            }
                          })
                  .forPath("/member-a"))
          .isNotNull();

      zk.expireSession(owner);

      await().atMost(Duration.ofSeconds(10)).untilTrue(deleted);
      assertThat(observer.checkExists().forPath("/member-a")).isNull();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> ownerStates.contains(ConnectionState.LOST));
      await().atMost(Duration.ofSeconds(10)).until(() -> owner.getZookeeperClient().isConnected());
      assertThat(owner.getZookeeperClient().getZooKeeper().getSessionId()).isNotEqualTo(oldSession);
    }
  }

  private static CuratorFramework client(EmbeddedZooKeeper zk) throws InterruptedException {
    return client(zk.connectString());
  }

  private static CuratorFramework client(String connect) throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(SESSION_TIMEOUT_MS)
            .connectionTimeoutMs(10_000)
            .retryPolicy(new RetryNTimes(100, 100))
            .build();
    c.start();
    assertThat(c.blockUntilConnected(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    return c;
  }
}
