package dev.handoff.zk;

import dev.handoff.Member;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Read-only tooling API: lists the registration znodes of a group as {@link ZkMembership} writes
 * them, one per member incarnation. Meant for operator tools such as {@code handoff-cli}; members
 * use {@link ZkMembership}, which also watches for changes.
 *
 * <p>It reads with the given Curator client and writes nothing; under the default ACL (world-read)
 * no credentials are needed.
 */
public final class MemberZnodes {

  /**
   * One registration znode.
   *
   * @param path the znode's path
   * @param member the member it registers (its epoch is the znode's {@code czxid}), or null if the
   *     payload is not a member registration this version can read
   * @param sessionId the ZooKeeper session that owns the ephemeral znode
   * @param registered when the znode was created (the incarnation registered)
   * @param lastChanged when its payload last changed (for example the announced state)
   */
  public record Entry(
      String path, Member member, long sessionId, Instant registered, Instant lastChanged) {}

  private MemberZnodes() {}

  /**
   * The parent znode of a group's registrations, as {@link ZkMembershipBuilder} lays it out.
   *
   * @param root the builder's {@code root} ({@code /handoff} by default)
   * @param group the builder's {@code group} ({@code default} by default)
   */
  public static String membersPath(String root, String group) {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(group, "group");
    return (root.equals("/") ? "" : root) + "/" + group + "/members";
  }

  /**
   * Reads every registration of {@code group}, ordered by member id, then epoch. A znode that
   * vanishes while it is read is left out; a group that does not exist has no members.
   *
   * @param client a started Curator client
   * @param root the membership's root znode
   * @param group the group
   * @throws Exception what Curator throws when ZooKeeper cannot be read (connection loss, no auth)
   */
  public static List<Entry> read(CuratorFramework client, String root, String group)
      throws Exception {
    Objects.requireNonNull(client, "client");
    String parent = membersPath(root, group);
    List<String> names;
    try {
      names = client.getChildren().forPath(parent);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
    var out = new ArrayList<Entry>();
    for (String name : names) {
      String path = parent + "/" + name;
      var stat = new Stat();
      byte[] data;
      try {
        data = client.getData().storingStatIn(stat).forPath(path);
      } catch (KeeperException.NoNodeException gone) {
        continue;
      }
      Member member = MemberData.decode(data, stat.getCzxid()).orElse(null);
      out.add(
          new Entry(
              path,
              member,
              stat.getEphemeralOwner(),
              Instant.ofEpochMilli(stat.getCtime()),
              Instant.ofEpochMilli(stat.getMtime())));
    }
    out.sort(
        Comparator.comparing((Entry e) -> e.member() == null ? "" : e.member().id())
            .thenComparingLong(e -> e.member() == null ? 0 : e.member().epoch())
            .thenComparing(Entry::path));
    return out;
  }
}
