package dev.handoff.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import picocli.CommandLine.Option;

/** Where the membership lives in ZooKeeper: the options of {@code ZkMembership.builder()}. */
final class ZooKeeperOptions {

  @Option(
      names = {"-z", "--zookeeper"},
      paramLabel = "host:port[,...][/chroot]",
      required = true,
      description = "ZooKeeper connect string.")
  String connectString;

  @Option(
      names = "--root",
      paramLabel = "znode",
      defaultValue = "/handoff",
      description = "The membership's root znode (default: ${DEFAULT-VALUE}).")
  String root;

  @Option(
      names = {"-g", "--group"},
      paramLabel = "group",
      defaultValue = "default",
      description = "The group (cluster) whose members to list (default: ${DEFAULT-VALUE}).")
  String group;

  @Option(
      names = "--zk-client-config",
      paramLabel = "zookeeper-client.properties",
      description = "ZooKeeper client properties (TLS: zookeeper.ssl.*, SASL), as for zkCli.sh.")
  Path zkClientConfig;

  @Option(
      names = "--zk-digest",
      paramLabel = "user:password",
      description = "Digest credentials, if the znodes are not world-readable.")
  String digest;

  @Option(
      names = "--timeout",
      paramLabel = "duration",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long to wait for ZooKeeper (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** A started client, connected; the caller closes it. */
  CuratorFramework connect() throws InterruptedException {
    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    var builder =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .connectionTimeoutMs(millis)
            .sessionTimeoutMs(Math.max(millis, 10_000))
            .retryPolicy(new RetryNTimes(3, 500));
    if (digest != null) {
      builder.authorization("digest", digest.getBytes(StandardCharsets.UTF_8));
    }
    if (zkClientConfig != null) {
      try {
        builder.zkClientConfig(new ZKClientConfig(zkClientConfig.toFile()));
      } catch (QuorumPeerConfig.ConfigException e) {
        throw new CliException(
            HandoffCli.USAGE, "cannot read --zk-client-config " + zkClientConfig + ": " + e, e);
      }
    }
    CuratorFramework client = builder.build();
    client.start();
    if (!client.blockUntilConnected(millis, TimeUnit.MILLISECONDS)) {
      client.close();
      throw new CliException(
          HandoffCli.UNREACHABLE,
          "could not connect to ZooKeeper at " + connectString + " within " + timeout);
    }
    return client;
  }
}
