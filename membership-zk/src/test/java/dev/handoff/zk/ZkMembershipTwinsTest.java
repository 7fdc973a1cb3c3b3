package dev.handoff.zk;

import static dev.handoff.zk.Recorder.connection;
import static dev.handoff.zk.Recorder.down;
import static dev.handoff.zk.Recorder.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberUp;
import dev.handoff.MemberState;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two live processes with one member id, against a real ZooKeeper server. */
class ZkMembershipTwinsTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

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

  private static Predicate<MemberEvent> superseded(Member self) {
    return e ->
        e instanceof ConnectionChanged c
            && c.state() == ConnectionState.SUPERSEDED
            && c.self().writerId().equals(self.writerId());
  }

  private static Predicate<MemberEvent> anyUpOf(String id) {
    return e -> e instanceof MemberUp u && u.member().id().equals(id);
  }

  @Test
  void aSecondLiveProcessWithTheSameMemberIdSupersedesTheFirstForGood() throws Exception {
    var watcher = member("watcher");
    var rw = recorded(watcher);
    started(watcher);
    var older = member("x");
    var ro = recorded(older);
    var first = started(older);
    var firstPath = older.registrationPath().join();
    await().atMost(WAIT).until(() -> rw.has(up(first)));

    var newer = member("x");
    var rn = recorded(newer);
    var second = started(newer);

    assertThat(second.epoch()).isGreaterThan(first.epoch());
    await().atMost(WAIT).until(() -> ro.has(superseded(first)));
    assertThat(older.writable()).isFalse();
    assertThat(newer.writable()).isTrue();
    // The older incarnation removed its own znode: a third party sees it go down.
    await().atMost(WAIT).until(() -> rw.has(down(first)));
    assertThat(rw.has(down(first, DownReason.EXPIRED))).isTrue();
    assertThat(older.registrationPath().join()).isNull();
    assertThat(watcher.curator().checkExists().forPath(firstPath)).isNull();
    await()
        .atMost(WAIT)
        .until(
            () ->
                watcher.members().stream()
                    .filter(m -> m.id().equals("x"))
                    .map(Member::writerId)
                    .toList()
                    .equals(List.of(second.writerId())));
    assertThat(older.announce(MemberState.RUNNING))
        .failsWithin(WAIT)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withMessageContaining("superseded");

    // Even when its session is lost, the superseded incarnation never registers again.
    zk.expireSession(older.curator());
    await()
        .during(Duration.ofSeconds(3))
        .atMost(WAIT)
        .until(
            () ->
                !older.writable()
                    && rw.count(anyUpOf("x")) == 2
                    && !ro.has(connection(ConnectionState.REREGISTERED)));
    assertThat(rn.has(e -> e instanceof ConnectionChanged)).isFalse();
    assertThat(newer.writable()).isTrue();
    assertThat(newer.self()).isEqualTo(second);
  }

  @Test
  void twinsStartingTogetherEndWithOnlyTheNewestWritable() {
    var a = member("x");
    var b = member("x");
    var ra = recorded(a);
    var rb = recorded(b);
    CompletableFuture<Member> startA = a.start();
    CompletableFuture<Member> startB = b.start();
    await()
        .atMost(WAIT)
        .until(
            () ->
                a.writable() != b.writable()
                    && (ra.has(connection(ConnectionState.SUPERSEDED))
                        || rb.has(connection(ConnectionState.SUPERSEDED))));
    var winner = a.writable() ? a : b;
    var loser = winner == a ? b : a;
    await()
        .during(Duration.ofSeconds(1))
        .atMost(WAIT)
        .until(() -> winner.writable() && !loser.writable());
    // The newest registration wins: the loser's epoch (if it registered) is the lower one.
    var loserStart = loser == a ? startA : startB;
    if (!loserStart.isCompletedExceptionally()) {
      assertThat(loser.self().epoch()).isLessThan(winner.self().epoch());
    }
    assertThat(winner.members()).extracting(Member::id).containsOnlyOnce("x");
  }

  @Test
  void aZombieThatComesBackAfterItsSessionExpiredDoesNotOutrankTheProcessThatReplacedIt()
      throws Exception {
    proxy = new CutOffProxy(zk.clientPort(0));
    var watcher = member("watcher");
    var rw = recorded(watcher);
    started(watcher);
    // The old pod: its node is partitioned away from ZooKeeper, then comes back.
    var zombie = members.create(proxy.connectString(), group, "x", b -> b.trackEnsemble(false));
    var rz = recorded(zombie);
    var old = started(zombie);
    await().atMost(WAIT).until(() -> rw.has(up(old)));

    proxy.cutOff();
    await().atMost(WAIT).until(() -> rw.has(down(old, DownReason.EXPIRED)));
    assertThat(zombie.writable()).isFalse();

    // Its replacement starts under the same member id while the old one is away.
    var replacement = member("x");
    var rr = recorded(replacement);
    var fresh = started(replacement);
    assertThat(fresh.epoch()).isGreaterThan(old.epoch());

    // The partition heals: the zombie re-registers (a higher czxid than the replacement's), sees
    // that a process started after its own holds the id, and gives up for good.
    proxy.restore();
    await().atMost(WAIT).until(() -> rz.has(connection(ConnectionState.LOST)));
    await().atMost(WAIT).until(() -> rz.has(connection(ConnectionState.SUPERSEDED)));
    assertThat(rz.has(connection(ConnectionState.REREGISTERED)))
        .as("never writable again, so never reported re-registered")
        .isFalse();
    assertThat(zombie.writable()).isFalse();
    await()
        .during(Duration.ofSeconds(2))
        .atMost(WAIT)
        .until(
            () ->
                replacement.writable()
                    && watcher.members().stream()
                        .filter(m -> m.id().equals("x"))
                        .map(Member::writerId)
                        .toList()
                        .equals(List.of(fresh.writerId())));
    assertThat(rr.has(connection(ConnectionState.SUPERSEDED))).isFalse();
    assertThat(replacement.self()).isEqualTo(fresh);
  }
}
