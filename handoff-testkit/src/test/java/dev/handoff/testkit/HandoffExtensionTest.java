package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

class HandoffExtensionTest {
  static final List<HandoffEnvironment> SEEN = new CopyOnWriteArrayList<>();

  /** Run through the JUnit launcher by the test below, not by surefire (nested class). */
  @HandoffTest(kafkaBrokers = 1, zookeeperServers = 1, fastCompaction = true)
  static class Sample {
    private final HandoffEnvironment fromConstructor;

    Sample(HandoffEnvironment env) {
      this.fromConstructor = env;
    }

    @Test
    void kafkaIsInjectedAndServes(EmbeddedKafka kafka, HandoffEnvironment env) throws Exception {
      SEEN.add(env);
      assertThat(env).isSameAs(fromConstructor);
      assertThat(kafka.bootstrapServers()).isEqualTo(env.bootstrapServers());
      try (Admin admin = Admin.create(env.kafkaAdminProperties())) {
        assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
      }
    }

    @Test
    void zooKeeperIsInjectedAndSessionsCanBeExpired(EmbeddedZooKeeper zk, HandoffEnvironment env)
        throws Exception {
      SEEN.add(env);
      assertThat(zk.connectString()).isEqualTo(env.zookeeperConnect());
      try (var owner = client(env);
          var observer = client(env)) {
        owner.create().withMode(CreateMode.EPHEMERAL).forPath("/sample");
        env.expireZooKeeperSession(owner);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> observer.checkExists().forPath("/sample") == null);
      }
    }

    private static org.apache.curator.framework.CuratorFramework client(HandoffEnvironment env)
        throws InterruptedException {
      var c =
          CuratorFrameworkFactory.newClient(
              env.zookeeperConnect(), 30_000, 10_000, new RetryNTimes(50, 100));
      c.start();
      assertThat(c.blockUntilConnected(20, TimeUnit.SECONDS)).isTrue();
      return c;
    }
  }

  @Test
  void oneEnvironmentServesTheWholeClassAndIsClosedAfterIt() {
    var listener = new SummaryGeneratingListener();
    LauncherFactory.create()
        .execute(
            LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(Sample.class))
                .configurationParameters(Map.of())
                .build(),
            listener);
    var summary = listener.getSummary();
    var failures = new StringWriter();
    summary.printFailuresTo(new PrintWriter(failures), 20);
    assertThat(summary.getTestsSucceededCount()).as(failures.toString()).isEqualTo(2);

    assertThat(SEEN).hasSize(2);
    var env = (EmbeddedEnvironment) SEEN.get(0);
    assertThat(SEEN.get(1)).isSameAs(env);
    assertThat(Loopback.isListening(EmbeddedKafkaTest.port(env.bootstrapServers()))).isFalse();
    assertThat(Loopback.isListening(env.zooKeeper().clientPort(0))).isFalse();
  }
}
