package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.Member;
import dev.handoff.MemberState;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MemberDataTest {

  @Test
  void roundTripsEveryFieldAndTakesTheEpochFromTheCaller() {
    var member = new Member("game-7/a b=c\n", 0, "host:1", "2.0-rc1 ü", MemberState.RUNNING);

    var decoded = MemberData.decode(MemberData.encode(member, "inc-1"), 42L);

    assertThat(decoded)
        .contains(new Member(member.id(), 42L, "host:1", "2.0-rc1 ü", MemberState.RUNNING));
  }

  @Test
  void ignoresKeysItDoesNotKnowSoNewerWritersStayReadable() {
    var text = "handoff-member=2\nid=a\nhost=h\nversion=v\nstate=LEAVING\nzone=eu-1\n";

    var decoded = MemberData.decode(text.getBytes(StandardCharsets.UTF_8), 7L);

    assertThat(decoded).contains(new Member("a", 7L, "h", "v", MemberState.LEAVING));
  }

  @Test
  void rejectsPayloadsThatAreNotMemberRegistrations() {
    assertThat(MemberData.decode(null, 1)).isEmpty();
    assertThat(MemberData.decode(new byte[0], 1)).isEmpty();
    assertThat(MemberData.decode("id=a\nhost=h\nversion=v\nstate=RUNNING".getBytes(), 1)).isEmpty();
    assertThat(
            MemberData.decode(
                "handoff-member=1\nid=a\nhost=h\nversion=v\nstate=NAPPING".getBytes(), 1))
        .isEmpty();
    assertThat(
            MemberData.decode(
                "handoff-member=1\nid=%zz\nhost=h\nversion=v\nstate=RUNNING".getBytes(), 1))
        .isEmpty();
  }

  @Test
  void carriesTheFirstEpochOfTheProcessAndDefaultsItToTheZnodesOwn() {
    var member = new Member("a", 0, "h", "v", MemberState.RUNNING);

    assertThat(MemberData.read(MemberData.encode(member, "i"), 50L))
        .contains(new MemberData.Payload(new Member("a", 50L, "h", "v", MemberState.RUNNING), 50L));
    assertThat(MemberData.read(MemberData.encode(member, "i", 12L), 50L))
        .contains(new MemberData.Payload(new Member("a", 50L, "h", "v", MemberState.RUNNING), 12L));
    // A since that is not a number, or later than the znode itself, is not believed.
    for (var since : new String[] {"x", "-3", "51"}) {
      var text = "handoff-member=1\nid=a\nhost=h\nversion=v\nstate=RUNNING\nsince=" + since;
      assertThat(MemberData.read(text.getBytes(StandardCharsets.UTF_8), 50L))
          .map(MemberData.Payload::since)
          .contains(50L);
    }
  }
}
