package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A TLS/SASL ZooKeeper: who gets in, and what a znode's creator-all ACL keeps from others. */
class TlsSaslEmbeddedZooKeeperTest {
  private static EmbeddedZooKeeper zk;

  @BeforeAll
  static void startServer() {
    zk =
        StartTimes.timed(
            "ZooKeeper TLS/SASL",
            () ->
                EmbeddedZooKeeper.builder()
                    .tlsSasl(true)
                    .saslUser("intruder", "intruder-secret")
                    .start());
  }

  @AfterAll
  static void stopServer() {
    zk.close();
  }

  @Test
  void theCreatorsAclKeepsAnotherSaslIdentityOut() throws Exception {
    try (var owner = connect(zk.clientConfig());
        var intruder = connect(zk.clientConfig("intruder", "intruder-secret"))) {
      // ZooKeeper checks a delete against the parent's ACL, so the parent is the owner's too.
      owner.create("/team", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
      owner.create(
          "/team/member", "mine".getBytes(), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);

      assertThatThrownBy(() -> intruder.setData("/team/member", "theirs".getBytes(), -1))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(() -> intruder.delete("/team/member", -1))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(
              () ->
                  intruder.create(
                      "/team/intruder",
                      new byte[0],
                      ZooDefs.Ids.OPEN_ACL_UNSAFE,
                      CreateMode.EPHEMERAL))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThat(new String(owner.getData("/team/member", false, null))).isEqualTo("mine");
    }
  }

  @Test
  void aWrongPasswordEndsInAuthFailed() throws Exception {
    var state = new CompletableFuture<KeeperState>();
    try (var client =
        new ZooKeeper(
            zk.connectString(),
            10_000,
            e -> {
              if (e.getState() == KeeperState.AuthFailed
                  || e.getState() == KeeperState.SaslAuthenticated) {
                state.complete(e.getState());
              }
            },
            zk.clientConfig(EmbeddedZooKeeper.DEFAULT_USER, "wrong-password"))) {
      assertThat(state.get(30, TimeUnit.SECONDS)).isEqualTo(KeeperState.AuthFailed);
    }
  }

  @Test
  void aTlsClientWithoutSaslIsRefusedAtItsFirstRequest() throws Exception {
    var config = zk.clientConfig();
    config.setProperty("zookeeper.sasl.client", "false");
    try (var client = new ZooKeeper(zk.connectString(), 10_000, e -> {}, config)) {
      assertThatThrownBy(() -> client.exists("/", false))
          .isInstanceOf(KeeperException.class)
          .satisfies(
              e ->
                  assertThat(((KeeperException) e).code())
                      .isIn(
                          KeeperException.Code.SESSIONCLOSEDREQUIRESASLAUTH,
                          KeeperException.Code.CONNECTIONLOSS));
    }
  }

  @Test
  void aPlainClientCannotConnectToTheTlsPort() throws Exception {
    var connected = new CompletableFuture<KeeperState>();
    try (var client =
        new ZooKeeper(
            zk.connectString(),
            2_000,
            e -> {
              if (e.getState() == KeeperState.SyncConnected) {
                connected.complete(e.getState());
              }
            },
            new ZKClientConfig())) {
      // A TLS client connects within milliseconds here; a plain one never does.
      assertThatThrownBy(() -> connected.get(1500, TimeUnit.MILLISECONDS))
          .isInstanceOf(java.util.concurrent.TimeoutException.class);
    }
  }

  @Test
  void aPlainServerCannotStartWhileASecuredOneRuns() {
    assertThatThrownBy(EmbeddedZooKeeper::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("JVM-wide system properties");
  }

  private static ZooKeeper connect(ZKClientConfig config) throws Exception {
    var authenticated = new CompletableFuture<Void>();
    var client =
        new ZooKeeper(
            zk.connectString(),
            10_000,
            e -> {
              if (e.getState() == KeeperState.SaslAuthenticated) {
                authenticated.complete(null);
              } else if (e.getState() == KeeperState.AuthFailed) {
                authenticated.completeExceptionally(new AssertionError("SASL failed"));
              }
            },
            config);
    authenticated.get(30, TimeUnit.SECONDS);
    return client;
  }
}
