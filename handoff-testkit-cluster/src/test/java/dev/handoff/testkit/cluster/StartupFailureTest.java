package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.StateCodec;
import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.HandoffTest;
import dev.handoff.zk.ZkMembership;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** A node whose Kafka or ZooKeeper is down fails start with a message that says what is wrong. */
@HandoffTest(kafkaBrokers = 1, zookeeperServers = 1)
class StartupFailureTest {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(StartupFailureTest.class);

  static String deadAddress() throws IOException {
    try (var s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + s.getLocalPort(); // closed again: nothing listens there
    }
  }

  static Throwable startFailure(StateHandoff<String> node) {
    try {
      node.start().orTimeout(60, TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      return e.getCause();
    } finally {
      node.close();
    }
    throw new AssertionError("start should have failed");
  }

  @Test
  void startFailsClearlyWhenKafkaIsDown(HandoffEnvironment env) throws IOException {
    String dead = deadAddress();
    var node =
        StateHandoff.<String>builder()
            .deltaLog(
                KafkaDeltaLog.builder()
                    .bootstrapServers(dead)
                    .topic("no-kafka")
                    .replicationFactor(1)
                    .requestTimeout(Duration.ofSeconds(3))
                    .build())
            .membership(membership(env.zookeeperConnect(), Duration.ofSeconds(10)))
            .codec(StateCodec.utf8())
            .build();
    Throwable e = startFailure(node);
    LOG.info("start without Kafka failed with:\n{}", describe(e));
    assertThat(e).isNotInstanceOf(TimeoutException.class);
    assertThat(describe(e)).contains("no-kafka");
  }

  @Test
  void startFailsClearlyWhenZooKeeperIsDown(HandoffEnvironment env) throws IOException {
    String dead = deadAddress();
    var node =
        StateHandoff.<String>builder()
            .deltaLog(
                KafkaDeltaLog.builder()
                    .bootstrapServers(env.bootstrapServers())
                    .topic("no-zookeeper")
                    .replicationFactor(1)
                    .build())
            .membership(membership(dead, Duration.ofSeconds(3)))
            .codec(StateCodec.utf8())
            .build();
    Throwable e = startFailure(node);
    LOG.info("start without ZooKeeper failed with:\n{}", describe(e));
    assertThat(describe(e)).contains(dead);
  }

  private static ZkMembership membership(String connect, Duration startTimeout) {
    return ZkMembership.builder()
        .connectString(connect)
        .group("startup-failure")
        .memberId("lonely")
        .openAcl()
        .sessionTimeout(Duration.ofSeconds(4))
        .connectionTimeout(Duration.ofSeconds(2))
        .startTimeout(startTimeout)
        .build();
  }

  /** The whole cause chain's messages, as a user would read them in a log. */
  private static String describe(Throwable e) {
    var sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
    }
    return sb.toString();
  }
}
