package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.MemberState;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The read-only listing of registration znodes, against members registered by ZkMembership. */
class MemberZnodesTest {

  private static EmbeddedZooKeeper zk;

  @BeforeAll
  static void startZooKeeper() {
    zk = EmbeddedZooKeeper.start();
  }

  @AfterAll
  static void stopZooKeeper() {
    zk.close();
  }

  private static CuratorFramework reader() {
    var client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryNTimes(10, 100));
    client.start();
    return client;
  }

  @Test
  void listsEveryIncarnationWithItsEpochStateHostAndVersion() throws Exception {
    try (var members = new Members();
        var client = reader()) {
      var a = members.create(zk.connectString(), "listed", "node-a");
      var b = members.create(zk.connectString(), "listed", "node-b");
      var selfA = a.start().get(20, TimeUnit.SECONDS);
      var selfB = b.start().get(20, TimeUnit.SECONDS);
      b.announce(MemberState.RUNNING).get(10, TimeUnit.SECONDS);

      var entries = MemberZnodes.read(client, "/handoff-test", "listed");

      assertThat(entries)
          .extracting(MemberZnodes.Entry::member)
          .containsExactly(selfA, selfB.withState(MemberState.RUNNING));
      assertThat(entries.get(0).path())
          .startsWith(MemberZnodes.membersPath("/handoff-test", "listed") + "/node-a@");
      assertThat(entries.get(0).sessionId()).isNotZero();
      assertThat(entries.get(1).lastChanged()).isAfterOrEqualTo(entries.get(1).registered());
    }
  }

  @Test
  void aMissingGroupHasNoMembersAndAForeignZnodeIsListedUnread() throws Exception {
    try (var client = reader()) {
      assertThat(MemberZnodes.read(client, "/handoff-test", "nobody-here")).isEmpty();

      String parent = MemberZnodes.membersPath("/", "foreign");
      assertThat(parent).isEqualTo("/foreign/members");
      client
          .create()
          .creatingParentsIfNeeded()
          .forPath(parent + "/junk", "hello".getBytes(StandardCharsets.UTF_8));
      assertThat(MemberZnodes.read(client, "/", "foreign"))
          .singleElement()
          .satisfies(e -> assertThat(e.member()).isNull());
    }
  }
}
