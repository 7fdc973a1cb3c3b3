package dev.handoff.zk;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;

/** The validated options of one {@link ZkMembership}, and the Curator client they describe. */
record ZkSettings(
    String connectString,
    String root,
    String group,
    String memberId,
    String host,
    String version,
    Duration sessionTimeout,
    Duration connectionTimeout,
    Duration startTimeout,
    RetryPolicy retryPolicy,
    List<ACL> acl,
    boolean trackEnsemble,
    String digestUser,
    String digestPassword,
    ZKClientConfig zkClientConfig) {

  /** The parent znode of every member incarnation of the group. */
  String membersPath() {
    return root + "/" + group + "/members";
  }

  /**
   * A new (not started) Curator client with these options, making its ZooKeeper handles through
   * {@code handles}. Curator's own threads (background operations, connection-state events) run at
   * maximum priority, as the ZooKeeper client's do ({@link ClientHandles}).
   */
  CuratorFramework newClient(ClientHandles handles) {
    var builder =
        CuratorFrameworkFactory.builder()
            .zookeeperFactory(handles)
            .threadFactory(
                MembershipLoop.numberedDaemons(
                    "handoff-zk-curator-" + MembershipLoop.threadSuffix(memberId) + "-",
                    Thread.MAX_PRIORITY))
            .connectString(connectString)
            .sessionTimeoutMs(millis(sessionTimeout))
            .connectionTimeoutMs(millis(connectionTimeout))
            .retryPolicy(retryPolicy)
            .aclProvider(new FixedAcl(acl))
            .ensembleTracker(trackEnsemble)
            .dontUseContainerParents();
    if (digestUser != null) {
      builder.authorization(
          "digest", (digestUser + ":" + digestPassword).getBytes(StandardCharsets.UTF_8));
    }
    if (zkClientConfig != null) {
      builder.zkClientConfig(zkClientConfig);
    }
    return builder.build();
  }

  /** The password is a secret: it never appears in a string. */
  @Override
  public String toString() {
    return "ZkSettings[" + connectString + membersPath() + ", memberId=" + memberId + "]";
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
  }

  // ZooKeeper's validateACL calls acl.contains(null), which immutable lists refuse with an NPE:
  // hand it a mutable copy every time.
  private record FixedAcl(List<ACL> acl) implements ACLProvider {
    @Override
    public List<ACL> getDefaultAcl() {
      return new ArrayList<>(acl);
    }

    @Override
    public List<ACL> getAclForPath(String path) {
      return new ArrayList<>(acl);
    }
  }
}
