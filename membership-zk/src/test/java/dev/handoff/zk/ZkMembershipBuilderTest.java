package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
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

  @Test
  void everyOptionCanBeSetOnlyOnceAndTheSecondCallNamesTheFirstValue() {
    var options =
        List.<Consumer<ZkMembershipBuilder>>of(
            b -> b.connectString("127.0.0.1:2181"),
            b -> b.root("/r"),
            b -> b.group("g"),
            b -> b.memberId("a"),
            b -> b.host("h"),
            b -> b.version("1.0"),
            b -> b.sessionTimeout(Duration.ofSeconds(4)),
            b -> b.connectionTimeout(Duration.ofSeconds(2)),
            b -> b.startTimeout(Duration.ofSeconds(9)),
            b -> b.retryPolicy(new RetryNTimes(3, 100)),
            b -> b.digestAuth("alice", "pw"),
            b -> b.zkClientConfig(new ZKClientConfig()),
            b -> b.openAcl(),
            b -> b.trackEnsemble(false));
    var names =
        List.of(
            "connectString",
            "root",
            "group",
            "memberId",
            "host",
            "version",
            "sessionTimeout",
            "connectionTimeout",
            "startTimeout",
            "retryPolicy",
            "digestAuth",
            "zkClientConfig",
            "acl",
            "trackEnsemble");
    for (int i = 0; i < options.size(); i++) {
      var b = ZkMembership.builder();
      var set = options.get(i);
      set.accept(b);
      assertThatIllegalStateException()
          .as(names.get(i))
          .isThrownBy(() -> set.accept(b))
          .withMessageStartingWith(names.get(i) + " was already set to");
    }
    var b = ZkMembership.builder().sessionTimeout(Duration.ofSeconds(4)).memberId("pod-7");
    assertThatIllegalStateException()
        .isThrownBy(() -> b.sessionTimeout(Duration.ofSeconds(5)))
        .withMessage("sessionTimeout was already set to PT4S");
    assertThatIllegalStateException()
        .isThrownBy(() -> b.memberId("pod-8"))
        .withMessage("memberId was already set to 'pod-7'");
  }

  @Test
  void aclAndOpenAclAreOneOption() {
    assertThatIllegalStateException()
        .isThrownBy(() -> ZkMembership.builder().openAcl().acl(ZooDefs.Ids.READ_ACL_UNSAFE))
        .withMessage("acl was already set to openAcl()");
    assertThatIllegalStateException()
        .isThrownBy(() -> ZkMembership.builder().acl(ZooDefs.Ids.READ_ACL_UNSAFE).openAcl())
        .withMessageStartingWith("acl was already set to [");
  }

  @Test
  void badValuesAreNamedInTheMessageButPasswordsNeverAre() {
    var b = ZkMembership.builder();
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.sessionTimeout(Duration.ZERO))
        .withMessage("sessionTimeout must be positive, was PT0S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.startTimeout(Duration.ofSeconds(-1)))
        .withMessage("startTimeout must be positive, was PT-1S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.root("handoff"))
        .withMessageContaining("was 'handoff'");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.group(".."))
        .withMessageContaining("was '..'");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.connectString(null))
        .withMessage("connectString must not be null or blank, was null");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.retryPolicy(null))
        .withMessage("retryPolicy must not be null");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.acl(List.of()))
        .withMessage("acl must not be empty, was []");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> b.digestAuth("alice", " "))
        .withMessage("digestAuth password must not be null or blank");
    // A rejected value sets nothing: the option can still be set once.
    b.sessionTimeout(Duration.ofSeconds(4)).digestAuth("alice", "s3cret");
    assertThatIllegalStateException()
        .isThrownBy(() -> b.digestAuth("bob", "other"))
        .withMessage("digestAuth was already set to user 'alice'")
        .withMessageNotContaining("s3cret");
  }
}
