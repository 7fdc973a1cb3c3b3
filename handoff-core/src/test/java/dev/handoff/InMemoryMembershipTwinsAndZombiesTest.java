package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberDown;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Twins (two live incarnations of one member id) and zombies (an expiry not yet noticed). */
class InMemoryMembershipTwinsAndZombiesTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private final InMemoryMembership.Cluster cluster = new InMemoryMembership.Cluster();

  @Test
  void aSecondLiveIncarnationOfOneMemberIdSupersedesTheFirstForGood() {
    try (var peer = cluster.member("peer");
        var older = cluster.member("x");
        var newer = cluster.member("x")) {
      peer.start().join();
      Member first = older.start().join();
      var seenByPeer = new CopyOnWriteArrayList<MemberEvent>();
      var seenByOlder = new CopyOnWriteArrayList<MemberEvent>();
      peer.subscribe(seenByPeer::add);
      older.subscribe(seenByOlder::add);
      assertThat(older.writable()).isTrue();

      Member second = newer.start().join();

      assertThat(second.epoch()).isGreaterThan(first.epoch());
      assertThat(older.writable()).isFalse();
      assertThat(newer.writable()).isTrue();
      await()
          .atMost(WAIT)
          .until(
              () -> seenByOlder.contains(new ConnectionChanged(ConnectionState.SUPERSEDED, first)));
      await()
          .atMost(WAIT)
          .until(() -> seenByPeer.contains(new MemberDown(first, DownReason.EXPIRED)));
      assertThat(cluster.members()).extracting(Member::writerId).contains(second.writerId());
      assertThat(cluster.members()).extracting(Member::writerId).doesNotContain(first.writerId());
      assertThat(older.announce(MemberState.RUNNING)).isCompletedExceptionally();
      assertThat(older.leave()).isCompleted();
      assertThat(older.writable()).isFalse();
      await().atMost(WAIT).until(() -> newer.members().contains(second));
      assertThat(newer.members()).doesNotContain(first);
    }
  }

  @Test
  void aZombieStaysWritableUntilItNoticesWhilePeersSeeItExpireAtOnce() {
    try (var peer = cluster.member("peer");
        var zombie = cluster.member("z")) {
      peer.start().join();
      Member self = zombie.start().join();
      var seenByPeer = new CopyOnWriteArrayList<MemberEvent>();
      var seenByZombie = new CopyOnWriteArrayList<MemberEvent>();
      peer.subscribe(seenByPeer::add);
      zombie.subscribe(seenByZombie::add);
      await().atMost(WAIT).until(() -> seenByZombie.size() == 2); // the replayed MemberUps

      cluster.expireUnnoticed(zombie);

      await()
          .atMost(WAIT)
          .until(() -> seenByPeer.contains(new MemberDown(self, DownReason.EXPIRED)));
      assertThat(cluster.members()).extracting(Member::id).containsExactly("peer");
      assertThat(zombie.writable()).as("has not noticed").isTrue();
      assertThat(zombie.announce(MemberState.RUNNING)).isCompletedExceptionally();
      // A new incarnation of z may start meanwhile: the zombie is not live, so nobody is
      // superseded.
      try (var successor = cluster.member("z")) {
        successor.start().join();
        assertThat(successor.writable()).isTrue();
        assertThat(zombie.writable()).isTrue();
        assertThat(seenByZombie).hasSize(2);

        cluster.notice(zombie);

        assertThat(zombie.writable()).isFalse();
        await()
            .atMost(WAIT)
            .until(() -> seenByZombie.contains(new ConnectionChanged(ConnectionState.LOST, self)));
        assertThat(seenByZombie.stream().filter(e -> e instanceof ConnectionChanged))
            .containsExactly(new ConnectionChanged(ConnectionState.LOST, self));
        assertThat(successor.writable()).isTrue();
        cluster.notice(zombie); // a second notice does nothing
        assertThat(seenByPeer.stream().filter(e -> e instanceof MemberDown))
            .as("the peer saw the zombie go once")
            .containsExactly(new MemberDown(self, DownReason.EXPIRED));
      }
    }
  }

  @Test
  void expiringAnUnnoticedZombieIsNoticingIt() {
    try (var zombie = cluster.member("z")) {
      Member self = zombie.start().join();
      var seen = new CopyOnWriteArrayList<MemberEvent>();
      zombie.subscribe(seen::add);
      cluster.expireUnnoticed(zombie);
      assertThat(zombie.writable()).isTrue();
      cluster.expire(zombie);
      assertThat(zombie.writable()).isFalse();
      await()
          .atMost(WAIT)
          .until(() -> seen.contains(new ConnectionChanged(ConnectionState.LOST, self)));
    }
  }
}
