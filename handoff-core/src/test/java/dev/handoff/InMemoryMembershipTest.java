package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberChanged;
import dev.handoff.MemberEvent.MemberDown;
import dev.handoff.MemberEvent.MemberUp;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class InMemoryMembershipTest {

  private final InMemoryMembership.Cluster cluster = new InMemoryMembership.Cluster();

  @Test
  void membersSeeEachOtherComeChangeAndGoInOrder() {
    try (var a = cluster.member("a");
        var b = cluster.member("b")) {
      Member ma = a.start().join();
      var events = new CopyOnWriteArrayList<MemberEvent>();
      a.subscribe(events::add);
      Member mb = b.start().join();
      assertThat(mb.epoch()).isGreaterThan(ma.epoch());
      assertThat(b.members()).extracting(Member::id).containsExactly("a", "b");
      b.announce(MemberState.RUNNING).join();
      b.leave().join();
      assertThat(b.writable()).isFalse();
      await().atMost(Duration.ofSeconds(5)).until(() -> events.size() == 5);
      Member running = mb.withState(MemberState.RUNNING);
      Member leaving = mb.withState(MemberState.LEAVING);
      assertThat(events)
          .containsExactly(
              new MemberUp(ma),
              new MemberUp(mb),
              new MemberChanged(mb, running),
              new MemberChanged(running, leaving),
              new MemberDown(leaving, DownReason.LEFT));
      await().atMost(Duration.ofSeconds(5)).until(() -> a.members().equals(List.of(ma)));
    }
  }

  @Test
  void anExpiredMemberLosesItsConnectionAndPeersSeeItExpire() {
    try (var a = cluster.member("a");
        var b = cluster.member("b")) {
      a.start().join();
      Member mb = b.start().join();
      var seenByA = new CopyOnWriteArrayList<MemberEvent>();
      var seenByB = new CopyOnWriteArrayList<MemberEvent>();
      a.subscribe(seenByA::add);
      b.subscribe(seenByB::add);
      assertThat(b.writable()).isTrue();
      cluster.expire(b);
      assertThat(b.writable()).isFalse();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> seenByA.contains(new MemberDown(mb, DownReason.EXPIRED)));
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> seenByB.contains(new ConnectionChanged(ConnectionState.LOST, mb)));
      assertThat(cluster.members()).extracting(Member::id).containsExactly("a");
      // a restarted member is a new incarnation with a higher epoch
      try (var b2 = cluster.member("b")) {
        assertThat(b2.start().join().epoch()).isGreaterThan(mb.epoch());
      }
    }
  }
}
