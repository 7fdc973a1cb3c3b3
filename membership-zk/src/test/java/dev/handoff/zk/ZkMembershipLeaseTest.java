package dev.handoff.zk;

import static dev.handoff.zk.Recorder.connection;
import static dev.handoff.zk.Recorder.down;
import static dev.handoff.zk.Recorder.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.Member;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The lease behind writable(), against a real ZooKeeper server. */
class ZkMembershipLeaseTest {

  private static final Logger log = LoggerFactory.getLogger(ZkMembershipLeaseTest.class);
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration SESSION = Duration.ofSeconds(4); // Members' default

  private static EmbeddedZooKeeper zk;
  private final Members members = new Members();
  private final String group = "g-" + UUID.randomUUID().toString().substring(0, 8);
  private CutOffProxy proxy;

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
    if (proxy != null) {
      proxy.close();
    }
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
  void aStartedMemberHoldsALeaseThatItsHeartbeatKeepsRenewing() {
    var a = members.create(zk.connectString(), group, "a");
    started(a);
    assertThat(a.writable()).isTrue();
    var length = Lease.length(SESSION);
    // Renewed every T/4 (1 s): over a few seconds, the lease never falls below half its length.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                a.writable()
                    && a.leaseRemaining().compareTo(length.dividedBy(2)) > 0
                    && a.leaseRemaining().compareTo(length) <= 0);
  }

  @Test
  void theLeaseFollowsTheSessionTimeoutTheServerNegotiatedNotTheOneRequested() throws Exception {
    // The embedded server caps sessions at 60 s: asking for 100 s gets 60 s, a lease of 40 s.
    var a =
        members.create(
            zk.connectString(), group, "a", b -> b.sessionTimeout(Duration.ofSeconds(100)));
    started(a);
    assertThat(a.curator().getZookeeperClient().getZooKeeper().getSessionTimeout())
        .isEqualTo(60_000);
    assertThat(a.leaseRemaining())
        .isLessThanOrEqualTo(Lease.length(Duration.ofSeconds(60)))
        .isGreaterThan(Lease.length(Duration.ofSeconds(60)).minusSeconds(5));
  }

  @Test
  void aClientCutOffFromZooKeeperStopsBeingWritableWithinItsLeaseBeforeItsSessionCanExpire()
      throws Exception {
    proxy = new CutOffProxy(zk.clientPort(0));
    var a = members.create(proxy.connectString(), group, "a", b -> b.trackEnsemble(false));
    var peer = members.create(zk.connectString(), group, "peer");
    var ra = recorded(a);
    var rp = recorded(peer);
    var self = started(a);
    started(peer);
    await().atMost(WAIT).until(() -> rp.has(up(self)));
    assertThat(a.writable()).isTrue();

    var left = a.leaseRemaining();
    long cut = System.nanoTime();
    proxy.cutOff();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(() -> !a.writable());
    long notWritable = System.nanoTime();

    log.info(
        "MEASURE cut off -> writable() false: {} ms (lease left at the cut: {} ms)",
        millis(notWritable - cut),
        left.toMillis());
    assertThat(Duration.ofNanos(notWritable - cut))
        .as("false once the lease left at the cut ran out")
        .isLessThanOrEqualTo(left.plusMillis(100))
        .isLessThanOrEqualTo(Lease.length(SESSION).plusMillis(100));
    assertThat(ra.has(connection(ConnectionState.LOST))).as("Curator has not noticed").isFalse();

    // The server expires the session (peers see it go) and Curator reports LOST only later.
    await().atMost(WAIT).until(() -> rp.has(down(self)));
    assertThat(rp.has(down(self, DownReason.EXPIRED))).isTrue();
    assertThat(rp.first(down(self)).orElseThrow().nanos()).isGreaterThan(notWritable);
    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.LOST)));
    long lost = ra.first(connection(ConnectionState.LOST)).orElseThrow().nanos();
    log.info(
        "MEASURE cut off -> peer sees MemberDown(EXPIRED): {} ms; -> LOST on the member: {} ms",
        millis(rp.first(down(self)).orElseThrow().nanos() - cut),
        millis(lost - cut));
    assertThat(lost).isGreaterThan(notWritable);
    assertThat(a.writable()).isFalse();

    // Back on the network: a new incarnation, writable again.
    proxy.restore();
    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.REREGISTERED)));
    assertThat(a.writable()).isTrue();
    assertThat(a.self().epoch()).isGreaterThan(self.epoch());
  }

  @Test
  void aLeaveOrCloseEndsWritableAtOnceWhateverTheLeaseLeft() {
    var a = members.create(zk.connectString(), group, "a");
    var b = members.create(zk.connectString(), group, "b");
    started(a);
    started(b);
    assertThat(a.leaseRemaining()).isPositive();
    a.leave().orTimeout(10, TimeUnit.SECONDS).join();
    assertThat(a.writable()).isFalse();
    b.close();
    assertThat(b.writable()).isFalse();
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
