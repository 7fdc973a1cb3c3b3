package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberChanged;
import dev.handoff.MemberEvent.MemberDown;
import dev.handoff.MemberEvent.MemberUp;
import dev.handoff.MemberState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The nodedown policy, without ZooKeeper: what each sequence of reads reports. */
class GroupViewTest {

  private final GroupView view = new GroupView();
  private final List<MemberEvent> out = new ArrayList<>();

  private static Member member(String id, long epoch, MemberState state) {
    return new Member(id, epoch, "h", "v", state);
  }

  private void seen(String name, long czxid, Member m) {
    assertThat(view.onChildren(List.of(name), out)).contains(name);
    view.onData(name, czxid, m, out);
  }

  @Test
  void reportsUpOnlyOnceTheDataIsReadAndChangedWhenTheStateChanges() {
    assertThat(view.onChildren(List.of("a@1"), out)).containsExactly("a@1");
    assertThat(out).isEmpty();
    assertThat(view.allRead()).isFalse();

    view.onData("a@1", 10, member("a", 10, MemberState.STARTING), out);
    view.onDataChanged("a@1");
    view.onData("a@1", 10, member("a", 10, MemberState.RUNNING), out);

    assertThat(out)
        .containsExactly(
            new MemberUp(member("a", 10, MemberState.STARTING)),
            new MemberChanged(
                member("a", 10, MemberState.STARTING), member("a", 10, MemberState.RUNNING)));
    assertThat(view.allRead()).isTrue();
    assertThat(view.members()).containsExactly(member("a", 10, MemberState.RUNNING));
  }

  @Test
  void aZnodeThatVanishesAfterAnnouncingLeavingLeft() {
    seen("a@1", 10, member("a", 10, MemberState.LEAVING));

    view.onChildren(List.of(), out);

    assertThat(out)
        .last()
        .isEqualTo(new MemberDown(member("a", 10, MemberState.LEAVING), DownReason.LEFT));
  }

  @Test
  void aZnodeDeletedRightAfterAChangeWeCouldNotReadLeft() {
    seen("a@1", 10, member("a", 10, MemberState.RUNNING));

    view.onDataChanged("a@1"); // LEAVING was written ...
    view.onGone("a@1", out); // ... and the znode was deleted before our read came back

    assertThat(out)
        .last()
        .isEqualTo(new MemberDown(member("a", 10, MemberState.RUNNING), DownReason.LEFT));
  }

  @Test
  void aZnodeThatVanishesWhileRunningExpired() {
    seen("a@1", 10, member("a", 10, MemberState.RUNNING));

    view.onGone("a@1", out);
    view.onChildren(List.of(), out); // the children watch reports the same loss: no second event

    assertThat(out)
        .containsExactly(
            new MemberUp(member("a", 10, MemberState.RUNNING)),
            new MemberDown(member("a", 10, MemberState.RUNNING), DownReason.EXPIRED));
  }

  @Test
  void aMemberThatBouncedWhileWeWereDisconnectedIsDownThenUpWithUnknownCause() {
    seen("a@1", 10, member("a", 10, MemberState.RUNNING));
    view.beginResync();

    var toRead = view.onChildren(List.of("a@2"), out);
    view.onData("a@2", 20, member("a", 20, MemberState.STARTING), out);
    view.endResync();

    assertThat(toRead).containsExactly("a@2");
    assertThat(out)
        .containsSubsequence(
            new MemberDown(member("a", 10, MemberState.RUNNING), DownReason.UNKNOWN),
            new MemberUp(member("a", 20, MemberState.STARTING)));
  }

  @Test
  void aLeaveSeenBeforeTheDisconnectStaysLeft() {
    seen("a@1", 10, member("a", 10, MemberState.LEAVING));
    view.beginResync();

    view.onChildren(List.of(), out);

    assertThat(out)
        .last()
        .isEqualTo(new MemberDown(member("a", 10, MemberState.LEAVING), DownReason.LEFT));
  }

  @Test
  void ownZnodeOfALostSessionExpiredEvenDuringResync() {
    seen("me@1", 10, member("me", 10, MemberState.RUNNING));
    view.beginResync();
    view.markExpired("me@1");

    view.onChildren(List.of(), out);

    assertThat(out)
        .last()
        .isEqualTo(new MemberDown(member("me", 10, MemberState.RUNNING), DownReason.EXPIRED));
  }

  @Test
  void sameNameWithANewCzxidIsANewIncarnation() {
    seen("a@1", 10, member("a", 10, MemberState.RUNNING));

    view.onDataChanged("a@1");
    view.onData("a@1", 30, member("a", 30, MemberState.STARTING), out);

    assertThat(out)
        .containsSubsequence(
            new MemberDown(member("a", 10, MemberState.RUNNING), DownReason.UNKNOWN),
            new MemberUp(member("a", 30, MemberState.STARTING)));
  }

  @Test
  void unreadableZnodesAreNeverMembersAndDoNotBlockTheFirstSync() {
    view.onChildren(List.of("junk", "a@1"), out);
    view.onData("junk", 5, null, out);
    view.onData("a@1", 10, member("a", 10, MemberState.RUNNING), out);

    assertThat(view.allRead()).isTrue();
    assertThat(view.members()).containsExactly(member("a", 10, MemberState.RUNNING));

    view.onChildren(List.of("a@1"), out);
    assertThat(out).containsExactly(new MemberUp(member("a", 10, MemberState.RUNNING)));
  }

  @Test
  void membersAreOrderedByIdThenEpoch() {
    view.onChildren(List.of("b@1", "a@2", "a@1"), out);
    view.onData("b@1", 5, member("b", 5, MemberState.RUNNING), out);
    view.onData("a@2", 9, member("a", 9, MemberState.RUNNING), out);
    view.onData("a@1", 7, member("a", 7, MemberState.RUNNING), out);

    assertThat(view.members()).extracting(Member::writerId).containsExactly("a#7", "a#9", "b#5");
  }

  @Test
  void listsTheLiveIncarnationsOfOneMemberIdWithTheFirstEpochOfTheirProcess() {
    view.onChildren(List.of("x@1", "x@2", "y@1", "x@3"), out);
    view.onData("x@1", 5, member("x", 5, MemberState.RUNNING), out);
    view.onData("x@2", 9, member("x", 9, MemberState.STARTING), 3, out);
    view.onData("y@1", 6, member("y", 6, MemberState.RUNNING), out);
    // x@3 is not read yet: not an incarnation anyone can rank.

    assertThat(view.incarnationsOf("x"))
        .containsExactlyInAnyOrder(
            new GroupView.Incarnation("x@1", member("x", 5, MemberState.RUNNING), 5),
            new GroupView.Incarnation("x@2", member("x", 9, MemberState.STARTING), 3));
    view.onChildren(List.of("x@2", "y@1", "x@3"), out);
    assertThat(view.incarnationsOf("x"))
        .extracting(GroupView.Incarnation::name)
        .containsExactly("x@2");
  }
}
