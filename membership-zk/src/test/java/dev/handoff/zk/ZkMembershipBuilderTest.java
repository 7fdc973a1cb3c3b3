package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ZkMembershipBuilderTest {

  @Test
  void rejectsBadOptionsNamingTheOption() {
    var b = ZkMembership.builder();
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.connectString(" "))
        .withMessageContaining("connectString");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.root("handoff"))
        .withMessageContaining("root");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.root("/handoff/"))
        .withMessageContaining("root");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.group("a/b"))
        .withMessageContaining("group");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.memberId("x".repeat(201)))
        .withMessageContaining("memberId");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.sessionTimeout(Duration.ZERO))
        .withMessageContaining("sessionTimeout");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.digestAuth("a:b", "pw"))
        .withMessageContaining("digestAuth user");
  }

  @Test
  void requiresConnectStringAndMemberId() {
    assertThatIllegalStateException()
        .isThrownBy(() -> ZkMembership.builder().memberId("a").openAcl().build())
        .withMessageContaining("connectString");
    assertThatIllegalStateException()
        .isThrownBy(() -> ZkMembership.builder().connectString("127.0.0.1:1").openAcl().build())
        .withMessageContaining("memberId");
  }

  @Test
  void refusesTheDefaultAclWithoutAnIdentityInsteadOfFallingBackToOpen() {
    assertThatIllegalStateException()
        .isThrownBy(() -> ZkMembership.builder().connectString("127.0.0.1:1").memberId("a").build())
        .withMessageContaining("digestAuth")
        .withMessageContaining("openAcl");
  }

  @Test
  void selfIsUnavailableBeforeStartAndCloseIsIdempotent() {
    var m = ZkMembership.builder().connectString("127.0.0.1:1").memberId("a").openAcl().build();
    assertThatIllegalStateException().isThrownBy(m::self).withMessageContaining("not registered");
    assertThat(m.writable()).isFalse();
    assertThat(m.members()).isEmpty();
    m.close();
    m.close();
    assertThat(m.start()).isCompletedExceptionally();
    assertThat(m.announce(dev.handoff.MemberState.RUNNING)).isCompletedExceptionally();
  }
}
