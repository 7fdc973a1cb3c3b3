package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.handoff.testkit.containers.RequiresDocker;
import dev.handoff.testkit.containers.TestcontainersEnvironment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fault controls of {@link TestcontainersEnvironment} on real containers. */
@RequiresDocker
class TestcontainersEnvironmentTest {
  private static TestcontainersEnvironment env;

  @BeforeAll
  static void start() {
    env = TestcontainersEnvironment.builder().start();
  }

  @AfterAll
  static void stop() {
    if (env != null) {
      env.close();
    }
  }

  @Test
  void serversListenOnLoopbackOnly() throws Exception {
    assertThat(env.kafkaBrokers()).isEqualTo(1);
    assertThat(env.zookeeperServers()).isEqualTo(1);
    for (String address : List.of(env.bootstrapServers(), env.zookeeperConnect())) {
      assertThat(address).startsWith("127.0.0.1:");
      int port = Integer.parseInt(address.substring(address.indexOf(':') + 1));
      // Host networking: the containers' listening sockets are the host's (Linux /proc/net).
      assertThat(listeningAddresses(port))
          .as("listeners on port %d", port)
          .isNotEmpty()
          .allMatch(a -> a.equals("0100007F") || a.equals("0000000000000000FFFF00000100007F"));
    }
  }

  /** Hex local addresses of the sockets listening on {@code port}, from /proc/net/tcp and tcp6. */
  private static List<String> listeningAddresses(int port) throws Exception {
    String hexPort = String.format(":%04X", port);
    var out = new ArrayList<String>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : Files.readAllLines(Path.of(table))) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) {
          out.add(f[1].substring(0, f[1].indexOf(':')));
        }
      }
    }
    return out;
  }

  @Test
  void aRestartedBrokerKeepsItsRecords() throws Exception {
    String topic = "kept-across-restart";
    KafkaClients.createTopic(env.bootstrapServers(), topic, 1, (short) 1, Map.of());
    KafkaClients.produceAll(env.bootstrapServers(), topic, KafkaClients.records("k", 10, 100));
    env.restartKafkaBroker(0);
    var values = KafkaClients.values(KafkaClients.readAll(env.bootstrapServers(), topic));
    assertThat(values).hasSize(100).startsWith("value-0").endsWith("value-99");
  }

  @Test
  void aRestartedZooKeeperKeepsItsDataAndSessionsExpireOnTheServer() throws Exception {
    try (var owner = client();
        var observer = client()) {
      owner.create().forPath("/kept", "v1".getBytes(StandardCharsets.UTF_8));
      owner.create().withMode(CreateMode.EPHEMERAL).forPath("/member");
      var deleted = new AtomicBoolean();
      observer
          .checkExists()
          .usingWatcher(
              (Watcher)
                  e -> {
                    if (e.getType() == EventType.NodeDeleted) {
                      deleted.set(true);
                    }
                  })
          .forPath("/member");

      env.expireZooKeeperSession(owner);
      await().atMost(Duration.ofSeconds(10)).untilTrue(deleted);

      env.restartZooKeeperServer(0);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  new String(observer.getData().forPath("/kept"), StandardCharsets.UTF_8)
                      .equals("v1"));
      assertThat(observer.checkExists().forPath("/member")).isNull();
    }
  }

  @Test
  void badIndexesAreRejected() {
    assertThatThrownBy(() -> env.stopKafkaBroker(1))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("Kafka broker index 1");
    assertThatThrownBy(() -> env.restartZooKeeperServer(-1))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("ZooKeeper server index -1");
  }

  private static CuratorFramework client() throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(env.zookeeperConnect())
            .sessionTimeoutMs(4_000)
            .connectionTimeoutMs(10_000)
            .retryPolicy(new RetryNTimes(200, 100))
            .build();
    c.start();
    assertThat(c.blockUntilConnected(20, TimeUnit.SECONDS)).isTrue();
    return c;
  }
}
