package dev.handoff.zk;

import static dev.handoff.zk.Recorder.anyDown;
import static dev.handoff.zk.Recorder.changedTo;
import static dev.handoff.zk.Recorder.connection;
import static dev.handoff.zk.Recorder.down;
import static dev.handoff.zk.Recorder.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.handoff.Member;
import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberUp;
import dev.handoff.MemberState;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ZkMembership against one real ZooKeeper server. */
class ZkMembershipTest {

  private static final Logger log = LoggerFactory.getLogger(ZkMembershipTest.class);
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static EmbeddedZooKeeper zk;
  private final Members members = new Members();
  private final List<CuratorFramework> rawClients = new ArrayList<>();
  private final String group = "g-" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void startZooKeeper() {
    zk = EmbeddedZooKeeper.start();
  }

  @AfterAll
  static void stopZooKeeper() {
    if (zk != null) {
      zk.close();
    }
  }

  @AfterEach
  void closeMembers() {
    members.close();
    rawClients.forEach(CuratorFramework::close);
  }

  private ZkMembership member(String id) {
    return members.create(zk.connectString(), group, id);
  }

  private static Recorder recorded(ZkMembership m) {
    var r = new Recorder();
    m.subscribe(r);
    return r;
  }

  private static Member started(ZkMembership m) {
    return m.start().orTimeout(20, TimeUnit.SECONDS).join();
  }

  @Test
  void threeMembersSeeEachOtherJoinChangeAndLeave() {
    var a = member("a");
    var b = member("b");
    var c = member("c");
    var ra = recorded(a);
    var rb = recorded(b);
    var rc = recorded(c);
    var selfA = started(a);
    var selfB = started(b);
    var selfC = started(c);

    for (var r : List.of(ra, rb, rc)) {
      await().atMost(WAIT).until(() -> r.has(up(selfA)) && r.has(up(selfB)) && r.has(up(selfC)));
    }
    assertThat(selfA.state()).isEqualTo(MemberState.STARTING);
    assertThat(a.members()).containsExactly(selfA, selfB, selfC);
    assertThat(a.writable()).isTrue();

    b.announce(MemberState.RUNNING).orTimeout(10, TimeUnit.SECONDS).join();
    assertThat(b.self()).isEqualTo(selfB.withState(MemberState.RUNNING));
    await().atMost(WAIT).until(() -> ra.has(changedTo(selfB, MemberState.RUNNING)));
    await().atMost(WAIT).until(() -> rc.has(changedTo(selfB, MemberState.RUNNING)));

    long leaveStart = System.nanoTime();
    c.leave().orTimeout(10, TimeUnit.SECONDS).join();
    await().atMost(WAIT).until(() -> ra.has(down(selfC, DownReason.LEFT)));
    await().atMost(WAIT).until(() -> rb.has(down(selfC, DownReason.LEFT)));
    log.info(
        "MEASURE graceful leave -> MemberDown(LEFT) on peer: {} ms",
        millis(ra.first(down(selfC)).orElseThrow().nanos() - leaveStart));

    assertThat(c.writable()).isFalse();
    assertThat(c.leave()).isCompleted(); // idempotent
    assertThat(a.members()).containsExactly(selfA, selfB.withState(MemberState.RUNNING));
    // Every incarnation went up once, and only c went down.
    assertThat(ra.count(e -> e instanceof MemberUp)).isEqualTo(3);
    assertThat(ra.count(anyDown())).isEqualTo(1);
    assertThat(ra.indexOf(up(selfC))).isLessThan(ra.indexOf(down(selfC)));

    // A late subscriber first gets the current members.
    var late = recorded(b);
    await().atMost(WAIT).until(() -> late.events().size() >= 2);
    assertThat(late.events())
        .startsWith(new MemberUp(selfA), new MemberUp(selfB.withState(MemberState.RUNNING)));
  }

  @Test
  void gracefulLeaveIsSeenPromptlyByPeers() {
    var watcher = member("watcher");
    var rw = recorded(watcher);
    started(watcher);
    var latencies = new ArrayList<Double>();
    for (int i = 0; i < 10; i++) {
      var m = member("leaver-" + i);
      var self = started(m);
      await().atMost(WAIT).until(() -> rw.has(up(self)));
      long t0 = System.nanoTime();
      m.leave().orTimeout(10, TimeUnit.SECONDS).join();
      await().atMost(WAIT).until(() -> rw.has(down(self)));
      assertThat(rw.has(down(self, DownReason.LEFT))).as("reason of %s", self).isTrue();
      latencies.add(millis(rw.first(down(self)).orElseThrow().nanos() - t0));
      m.close();
    }
    latencies.sort(Double::compare);
    log.info(
        "MEASURE graceful leave -> MemberDown(LEFT), 10 runs: min {} ms, median {} ms, max {} ms",
        latencies.get(0),
        latencies.get(5),
        latencies.get(9));
    assertThat(latencies.get(9)).isLessThan(2000.0);
  }

  @Test
  void serverSideExpiryIsReportedExpiredAndTheMemberComesBackWithAHigherEpoch() {
    var a = member("a");
    var b = member("b");
    var ra = recorded(a);
    var rb = recorded(b);
    started(a);
    var incarnation = started(b);
    b.announce(MemberState.RUNNING).join();
    incarnation = b.self();
    var latencies = new ArrayList<Double>();

    for (int i = 0; i < 3; i++) {
      var before = incarnation;
      await().atMost(WAIT).until(() -> ra.has(up(before)));
      long t0 = System.nanoTime();
      zk.expireSession(b.curator());
      await().atMost(WAIT).until(() -> ra.has(down(before)));
      assertThat(ra.has(down(before, DownReason.EXPIRED))).as("reason on peer").isTrue();
      var seen = ra.first(down(before)).orElseThrow().nanos();
      latencies.add(millis(seen - t0));
      log.info(
          "MEASURE forced server-side expiry -> MemberDown(EXPIRED) on peer: {} ms",
          millis(seen - t0));

      // b learns it lost its session, stops writing, and registers a new incarnation.
      await()
          .atMost(WAIT)
          .until(
              () ->
                  rb.has(
                      e ->
                          e instanceof ConnectionChanged c
                              && c.state() == ConnectionState.REREGISTERED
                              && c.self().epoch() > before.epoch()));
      var lost =
          rb.indexOf(
              e ->
                  e instanceof ConnectionChanged c
                      && c.state() == ConnectionState.LOST
                      && c.self().equals(before));
      var reregistered =
          rb.indexOf(
              e ->
                  e instanceof ConnectionChanged c
                      && c.state() == ConnectionState.REREGISTERED
                      && c.self().epoch() > before.epoch());
      assertThat(lost).isNotNegative().isLessThan(reregistered);
      var after = b.self();
      assertThat(after.epoch()).isGreaterThan(before.epoch());
      assertThat(after.state()).as("announced state survives").isEqualTo(MemberState.RUNNING);
      assertThat(b.writable()).isTrue();
      await().atMost(WAIT).until(() -> ra.has(up(after)));
      assertThat(ra.indexOf(down(before))).isLessThan(ra.indexOf(up(after)));
      assertThat(a.members())
          .extracting(Member::writerId)
          .contains(after.writerId())
          .doesNotContain(before.writerId());
      incarnation = after;
    }
    log.info("MEASURE forced expiry -> MemberDown(EXPIRED), 3 runs: {} ms", latencies);
  }

  @Test
  void aClientSideExpiryNeverReusesTheOldZnodeThatTheServerStillHolds() throws Exception {
    var a = member("a");
    var b = member("b");
    var ra = recorded(a);
    var rb = recorded(b);
    started(a);
    var before = started(b);
    var oldPath = b.registrationPath().join();
    await().atMost(WAIT).until(() -> ra.has(up(before)));

    // The client believes its session expired; the server keeps it (and the znode) for now.
    b.curator().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

    await().atMost(WAIT).until(() -> rb.has(connection(ConnectionState.REREGISTERED)));
    var after = b.self();
    assertThat(after.epoch()).isGreaterThan(before.epoch());
    assertThat(b.registrationPath().join()).isNotEqualTo(oldPath);
    // The old incarnation goes down (b removes its own stale znode) and the new one comes up.
    await().atMost(WAIT).until(() -> ra.has(down(before)) && ra.has(up(after)));
    assertThat(ra.has(down(before, DownReason.EXPIRED))).isTrue();
    assertThat(a.curator().checkExists().forPath(oldPath)).isNull();
    assertThat(a.members())
        .extracting(Member::writerId)
        .containsExactly("a#" + a.self().epoch(), after.writerId());
  }

  @Test
  void aStaleZnodeOfAPreviousIncarnationIsNeverAdopted() throws Exception {
    var watcher = member("watcher");
    var rw = recorded(watcher);
    started(watcher);
    // A previous incarnation of "a" whose process is gone but whose session the server still
    // holds: its znode is still there when the new incarnation starts.
    var previous = rawClient("handoff:secret");
    var stalePath = watcher.membersPath() + "/a@" + UUID.randomUUID();
    var staleStat = new Stat();
    previous
        .create()
        .storingStatIn(staleStat)
        .withMode(CreateMode.EPHEMERAL)
        .forPath(
            stalePath,
            MemberData.encode(new Member("a", 0, "old-host", "0.9", MemberState.RUNNING), "x"));
    var stale = new Member("a", staleStat.getCzxid(), "old-host", "0.9", MemberState.RUNNING);
    await().atMost(WAIT).until(() -> rw.has(up(stale)));

    var a = member("a");
    var self = started(a);

    assertThat(self.epoch()).isGreaterThan(stale.epoch());
    assertThat(a.registrationPath().join()).isNotEqualTo(stalePath);
    assertThat(a.members())
        .extracting(Member::writerId)
        .contains(stale.writerId(), self.writerId());
    await().atMost(WAIT).until(() -> rw.has(up(self)));

    // The previous process is "killed": its connection drops without closing the session, so the
    // server expires it after the session timeout.
    long t0 = System.nanoTime();
    previous.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
    await().atMost(WAIT).until(() -> rw.has(down(stale)));
    log.info(
        "MEASURE crashed member (connection dropped, 4 s session) -> MemberDown(EXPIRED): {} ms",
        millis(rw.first(down(stale)).orElseThrow().nanos() - t0));
    assertThat(rw.has(down(stale, DownReason.EXPIRED))).isTrue();
    assertThat(rw.has(down(self))).isFalse();
    assertThat(a.writable()).isTrue();
    assertThat(a.self()).isEqualTo(self);
  }

  @Test
  void withDigestAclsAnotherIdentityCannotDeleteOrOverwriteAMember() throws Exception {
    // Its own root: alice's ACL on the root keeps every other identity out of it.
    var root = "/handoff-acl-" + group;
    var a =
        members.create(
            zk.connectString(), group, "a", b -> b.root(root).digestAuth("alice", "alice-pw"));
    var self = started(a);
    var path = a.registrationPath().join();

    var acl = a.curator().getACL().forPath(path);
    assertThat(acl)
        .containsExactlyInAnyOrder(
            new ACL(
                ZooDefs.Perms.ALL,
                new Id("digest", DigestAuthenticationProvider.generateDigest("alice:alice-pw"))),
            new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));

    for (var intruder : List.of(rawClient("mallory:mallory-pw"), rawClient(null))) {
      assertThatThrownBy(() -> intruder.delete().forPath(path))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(
              () -> intruder.setData().forPath(path, "x".getBytes(StandardCharsets.UTF_8)))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(
              () ->
                  intruder
                      .create()
                      .withMode(CreateMode.EPHEMERAL)
                      .forPath(a.membersPath() + "/a@forged", "x".getBytes(StandardCharsets.UTF_8)))
          .isInstanceOf(KeeperException.NoAuthException.class);
      // Everyone may read who is in the cluster.
      assertThat(MemberData.decode(intruder.getData().forPath(path), self.epoch())).contains(self);
    }
    assertThat(a.writable()).isTrue();
    assertThat(a.curator().checkExists().forPath(path)).isNotNull();

    // Another identity cannot join a group created under alice's ACL: start fails clearly.
    var bob =
        members.create(
            zk.connectString(), group, "bob", b -> b.root(root).digestAuth("bob", "bob-pw"));
    assertThat(bob.start())
        .failsWithin(Duration.ofSeconds(20))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withMessageContaining("NOAUTH")
        .withMessageContaining("digestAuth");
  }

  @Test
  void aShortZooKeeperOutageKeepsEveryIncarnation() {
    var a = member("a");
    var b = member("b");
    var ra = recorded(a);
    var rb = recorded(b);
    var selfA = started(a);
    var selfB = started(b);
    await().atMost(WAIT).until(() -> ra.has(up(selfB)) && rb.has(up(selfA)));

    zk.stopServer(0);
    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.SUSPENDED)));
    assertThat(a.writable()).as("suspended is not lost").isTrue();
    zk.restartServer(0);
    await()
        .atMost(WAIT)
        .until(
            () ->
                ra.has(connection(ConnectionState.RECONNECTED))
                    && rb.has(connection(ConnectionState.RECONNECTED)));

    b.announce(MemberState.RUNNING).orTimeout(10, TimeUnit.SECONDS).join();
    await().atMost(WAIT).until(() -> ra.has(changedTo(selfB, MemberState.RUNNING)));
    assertThat(ra.has(anyDown())).isFalse();
    assertThat(rb.has(anyDown())).isFalse();
    assertThat(ra.has(connection(ConnectionState.LOST))).isFalse();
    assertThat(a.self()).isEqualTo(selfA);
    assertThat(a.writable()).isTrue();
  }

  @Test
  void aLongZooKeeperOutageStopsWritesUntilReRegisteredUnderANewEpoch() {
    var a = member("a");
    var b = member("b");
    var ra = recorded(a);
    var rb = recorded(b);
    var selfA = started(a);
    var selfB = started(b);
    await().atMost(WAIT).until(() -> ra.has(up(selfB)));

    zk.stopServer(0);
    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.LOST)));
    assertThat(a.writable()).isFalse();
    CompletableFuture<Void> announced = a.announce(MemberState.RUNNING);
    assertThat(announced).isNotDone();
    zk.restartServer(0);

    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.REREGISTERED)));
    announced.orTimeout(10, TimeUnit.SECONDS).join();
    var newA = a.self();
    assertThat(newA.epoch()).isGreaterThan(selfA.epoch());
    assertThat(newA.state()).isEqualTo(MemberState.RUNNING);
    assertThat(a.writable()).isTrue();
    await().atMost(WAIT).until(() -> rb.has(connection(ConnectionState.REREGISTERED)));
    var newB = b.self();
    // Each sees the other's old incarnation go and the new one come, in that order.
    await()
        .atMost(WAIT)
        .until(
            () ->
                ra.has(up(newB)) && ra.has(down(selfB)) && rb.has(up(newA)) && rb.has(down(selfA)));
    assertThat(ra.indexOf(down(selfB))).isLessThan(ra.indexOf(up(newB)));
    assertThat(rb.indexOf(down(selfA))).isLessThan(rb.indexOf(up(newA)));
    await()
        .atMost(WAIT)
        .until(() -> a.members().equals(List.of(newA, newB.withState(b.self().state()))));
  }

  @Test
  void aFailingListenerDoesNotStopEventsAndAClosedSubscriptionGetsNoMore() throws Exception {
    var a = member("a");
    var failing = new Recorder();
    a.subscribe(
        e -> {
          failing.accept(e);
          throw new IllegalStateException("listener bug");
        });
    var healthy = recorded(a);
    var unsubscribed = new Recorder();
    var subscription = a.subscribe(unsubscribed);
    var selfA = started(a);
    var b = member("b");
    var selfB = started(b);
    await()
        .atMost(WAIT)
        .until(
            () -> failing.has(up(selfB)) && healthy.has(up(selfB)) && unsubscribed.has(up(selfB)));

    subscription.close();
    b.leave().orTimeout(10, TimeUnit.SECONDS).join();

    await().atMost(WAIT).until(() -> healthy.has(down(selfB)) && failing.has(down(selfB)));
    assertThat(failing.events()).isEqualTo(healthy.events());
    assertThat(healthy.first(up(selfA))).isPresent();
    // Events are delivered in order on one thread, so the removal came before the down.
    assertThat(unsubscribed.has(down(selfB))).isFalse();
  }

  @Test
  void startFailsWithATimeoutNamingTheOptionWhenZooKeeperIsUnreachable() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    var m =
        members.create(
            "127.0.0.1:" + port, group, "a", b -> b.startTimeout(Duration.ofMillis(1500)));

    assertThat(m.start())
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(java.util.concurrent.TimeoutException.class)
        .withMessageContaining("startTimeout");
    assertThat(m.writable()).isFalse();
  }

  @Test
  void startReturnsTheSameFutureEveryTimeAndAfterCloseAFailedOne() {
    var a = member("a");
    var first = a.start();
    assertThat(a.start()).isSameAs(first);
    var self = first.orTimeout(20, TimeUnit.SECONDS).join();
    assertThat(a.start()).isSameAs(first);
    assertThat(a.self()).isEqualTo(self);

    a.close();
    a.close(); // a second close does nothing and does not throw
    assertThat(a.writable()).isFalse();
    assertThat(a.start())
        .isCompletedExceptionally()
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withMessageContaining("closed");
    assertThat(a.announce(MemberState.RUNNING)).isCompletedExceptionally();
    assertThat(a.leave()).isCompletedExceptionally();
    assertThatThrownBy(() -> a.subscribe(e -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void closeFailsTheFuturesStillPending() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    var m = members.create("127.0.0.1:" + port, group, "a");
    var started = m.start();
    var announced = m.announce(MemberState.RUNNING);
    assertThat(m.start()).isSameAs(started);
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !started.isDone());
    assertThat(announced).isNotDone();

    m.close();
    m.close();
    for (var pending : List.of(started, announced)) {
      assertThat(pending)
          .failsWithin(WAIT)
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .withCauseInstanceOf(IllegalStateException.class)
          .withMessageContaining("closed");
    }
    assertThat(m.start()).isSameAs(started);
  }

  @Test
  void zooKeeperClientSettingsArePassedThroughToTheSession() throws Exception {
    var config = new org.apache.zookeeper.client.ZKClientConfig();
    config.setProperty(org.apache.zookeeper.client.ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
    config.setProperty("zookeeper.request.timeout", "7000");
    var m = members.create(zk.connectString(), group, "a", b -> b.zkClientConfig(config));
    started(m);

    var used = m.curator().getZookeeperClient().getZooKeeper().getClientConfig();
    assertThat(used.getProperty("zookeeper.request.timeout")).isEqualTo("7000");
    assertThat(used.isSaslClientEnabled()).isFalse();
  }

  private CuratorFramework rawClient(String digest) {
    var builder =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(4000)
            .connectionTimeoutMs(2000)
            .retryPolicy(new RetryNTimes(3, 100));
    if (digest != null) {
      builder.authorization("digest", digest.getBytes(StandardCharsets.UTF_8));
    }
    var client = builder.build();
    rawClients.add(client);
    client.start();
    return client;
  }

  private static double millis(long nanos) {
    return Math.round(nanos / 100_000.0) / 10.0;
  }
}
