package dev.handoff.zk;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;

/**
 * What a member says about its own access at start: a warning if its ACL lets anyone change the
 * group, and the message when ZooKeeper refuses its SASL authentication.
 */
final class AccessChecks {
  private AccessChecks() {}

  /**
   * A warning if {@code acl} grants {@code world:anyone} more than reading: then anyone who can
   * reach ZooKeeper can delete or rewrite this member's znode and add fake members.
   */
  static Optional<String> openAclWarning(
      List<ACL> acl, String memberId, String membersPath, String connectString) {
    int perms = 0;
    for (ACL entry : acl) {
      if (entry.getId().equals(ZooDefs.Ids.ANYONE_ID_UNSAFE)) {
        perms |= entry.getPerms() & ~ZooDefs.Perms.READ;
      }
    }
    if (perms == 0) {
      return Optional.empty();
    }
    return Optional.of(
        "The ZooKeeper ACL of member '"
            + memberId
            + "' gives world:anyone "
            + names(perms)
            + " on "
            + membersPath
            + " and on its own znode: anyone who can reach "
            + connectString
            + " can delete or rewrite this member and register fake ones (openAcl() or acl(...))."
            + " Use the default ACL with an authenticated identity outside development.");
  }

  /** The start failure when ZooKeeper refused the SASL authentication of this member's client. */
  static IllegalStateException saslRefused(
      String memberId, String connectString, ZKClientConfig config) {
    String section =
        config == null
            ? ZKClientConfig.LOGIN_CONTEXT_NAME_KEY_DEFAULT
            : config.getProperty(
                ZKClientConfig.LOGIN_CONTEXT_NAME_KEY,
                ZKClientConfig.LOGIN_CONTEXT_NAME_KEY_DEFAULT);
    return new IllegalStateException(
        "ZooKeeper at "
            + connectString
            + " refused the SASL authentication of member '"
            + memberId
            + "' (AuthFailed; JAAS login context '"
            + section
            + "'): check the user and password in that JAAS section and that the servers know this"
            + " user; the member stopped instead of retrying with the same credentials");
  }

  private static String names(int perms) {
    var out = new ArrayList<String>();
    if ((perms & ZooDefs.Perms.WRITE) != 0) {
      out.add("WRITE");
    }
    if ((perms & ZooDefs.Perms.CREATE) != 0) {
      out.add("CREATE");
    }
    if ((perms & ZooDefs.Perms.DELETE) != 0) {
      out.add("DELETE");
    }
    if ((perms & ZooDefs.Perms.ADMIN) != 0) {
      out.add("ADMIN");
    }
    return String.join(", ", out);
  }
}
