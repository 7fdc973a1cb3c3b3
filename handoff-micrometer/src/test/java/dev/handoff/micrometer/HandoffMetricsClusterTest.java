package dev.handoff.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.HandoffException;
import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.StateCodec;
import dev.handoff.testkit.EmbeddedKafka;
import dev.handoff.testkit.EmbeddedZooKeeper;
import dev.handoff.zk.ZkMembership;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two real nodes on embedded Kafka and ZooKeeper, each with its own Prometheus registry: what a
 * scrape of a running node says matches what the test did to it.
 */
class HandoffMetricsClusterTest {

  private static final String TOPIC = "metered-sessions";
  private static final String GROUP = "games";

  private EmbeddedZooKeeper zk;
  private EmbeddedKafka kafka;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** A node with its meters. */
  record Node(
      StateHandoff<String> handoff,
      KafkaDeltaLog log,
      PrometheusMeterRegistry registry,
      HandoffMetrics metrics) {
    String scrape() {
      return registry.scrape();
    }
  }

  @BeforeEach
  void startServers() {
    zk = EmbeddedZooKeeper.start();
    kafka = EmbeddedKafka.builder().brokers(1).start();
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    kafka.close();
    zk.close();
  }

  private Node node(String member) throws Exception {
    var log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic(TOPIC)
            .partitions(3)
            .replicationFactor(1)
            .clientIdsFor(GROUP, member)
            .build();
    var membership =
        ZkMembership.builder()
            .connectString(zk.connectString())
            .group(GROUP)
            .memberId(member)
            .sessionTimeout(Duration.ofSeconds(4))
            .digestAuth("games", "secret")
            .build();
    var metrics = HandoffMetrics.builder().topic(TOPIC).group(GROUP).member(member).build();
    StateHandoff<String> handoff =
        StateHandoff.<String>builder()
            .deltaLog(log)
            .membership(membership)
            .codec(StateCodec.utf8())
            .name(member)
            .operationRecorder(metrics)
            .build();
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics.monitor(handoff).bindTo(registry);
    var logMetrics = new KafkaDeltaLogMetrics(log, metrics.tags());
    logMetrics.bindTo(registry);
    toClose.add(handoff);
    toClose.add(logMetrics);
    toClose.add(metrics);
    toClose.add(registry::close);
    handoff.start().get(60, TimeUnit.SECONDS);
    return new Node(handoff, log, registry, metrics);
  }

  /** The sum of the samples of {@code metric} whose labels include every {@code k="v"} given. */
  static double sample(String scrape, String metric, String... labels) {
    double sum = 0;
    boolean found = false;
    for (String line : scrape.split("\n")) {
      if (line.startsWith("#")
          || !(line.startsWith(metric + "{") || line.startsWith(metric + " "))) {
        continue;
      }
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        all &= line.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    if (!found) {
      throw new AssertionError("no sample " + metric + " " + List.of(labels) + " in:\n" + scrape);
    }
    return sum;
  }

  private static Throwable failureOf(java.util.concurrent.CompletableFuture<?> f) {
    try {
      f.get(30, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException | CompletionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aScrapeOfARunningNodeCountsItsStashesPickupsFencedWritesAndSkippedRecords()
      throws Exception {
    Node a = node("node-a");
    Node b = node("node-b");
    for (int i = 1; i <= 5; i++) {
      a.handoff().stash("s-" + i, "state-" + i).get(30, TimeUnit.SECONDS);
    }
    // b may not take or write what a, a running member, owns.
    assertThat(failureOf(b.handoff().pickup("s-1")))
        .isInstanceOf(HandoffException.OwnedElsewhere.class);
    assertThat(failureOf(b.handoff().stash("s-2", "stolen")))
        .isInstanceOf(HandoffException.Fenced.class);
    assertThat(b.handoff().pickup("never-stashed").get(30, TimeUnit.SECONDS)).isEmpty();
    // Three records no node can decode.
    try (var producer =
        new KafkaProducer<byte[], byte[]>(
            Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < 3; i++) {
        producer.send(new ProducerRecord<>(TOPIC, i, new byte[] {9, 9}, new byte[] {1})).get();
      }
    }
    // a leaves: b takes two of its sessions.
    a.handoff().leave().get(30, TimeUnit.SECONDS);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> b.handoff().members().stream().noneMatch(m -> m.id().equals("node-a")));
    assertThat(b.handoff().pickup("s-3").get(30, TimeUnit.SECONDS)).contains("state-3");
    assertThat(b.handoff().pickup("s-4").get(30, TimeUnit.SECONDS)).contains("state-4");
    b.handoff().read("s-4").get(30, TimeUnit.SECONDS);

    String nodeA = a.scrape();
    assertThat(sample(nodeA, "handoff_stash_seconds_count", "outcome", "ok", "member", "node-a"))
        .isEqualTo(5);
    String nodeB = b.scrape();
    assertThat(sample(nodeB, "handoff_pickup_seconds_count", "outcome", "ok")).isEqualTo(3);
    assertThat(sample(nodeB, "handoff_pickup_seconds_count", "outcome", "owned-elsewhere"))
        .isEqualTo(1);
    assertThat(sample(nodeB, "handoff_stash_seconds_count", "outcome", "fenced")).isEqualTo(1);
    assertThat(sample(nodeB, "handoff_read_seconds_count", "outcome", "ok")).isEqualTo(1);
    assertThat(sample(nodeB, "handoff_writes_fenced_total", "member", "node-b")).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        sample(
                            b.scrape(), "handoff_records_skipped_total", "reason", "undecodable"))
                    .isEqualTo(3));
    assertThat(sample(nodeB, "handoff_records_skipped_total", "reason", "foreign-writer")).isZero();
    // Every stash was acknowledged one at a time: nothing held, nothing replaced, nothing retried.
    assertThat(sample(nodeA, "handoff_writes_pending_bytes")).isZero();
    assertThat(sample(nodeA, "handoff_stash_coalesced_total")).isZero();
    assertThat(sample(nodeB, "handoff_transfers_retried_total")).isZero();
    assertThat(sample(nodeB, "handoff_sessions_owned", "topic", TOPIC, "group", GROUP))
        .isEqualTo(2);
    assertThat(sample(nodeB, "handoff_state", "state", "RUNNING")).isEqualTo(1);
    assertThat(sample(nodeB, "handoff_state", "state", "FAILED")).isZero();
    assertThat(sample(nodeB, "handoff_membership_connection", "state", "CONNECTED")).isEqualTo(1);
    assertThat(sample(nodeB, "handoff_replay_progress_percent")).isEqualTo(100);
    assertThat(sample(nodeB, "handoff_log_read_records_total")).isPositive();
    // The Kafka clients' own metrics, under the node's client ids.
    assertThat(nodeB)
        .contains("client_id=\"handoff-games-node-b-reader\"")
        .contains("client_id=\"handoff-games-node-b-producer\"");
    assertThat(sample(b.scrape(), "handoff_state", "state", "RUNNING")).isEqualTo(1);
    assertThat(sample(a.scrape(), "handoff_state", "state", "LEFT")).isEqualTo(1);

    var health = b.handoff().health();
    assertThat(health.ready()).isTrue();
    assertThat(health.alive()).isTrue();
    assertThat(health.replayPercent()).isEqualTo(100.0);
    assertThat(health.readerLag()).isGreaterThanOrEqualTo(0);
    assertThat(health.membershipConnected()).isTrue();
    assertThat(health.lastError()).isEmpty();
    assertThat(a.handoff().health().ready()).isFalse();
  }
}
