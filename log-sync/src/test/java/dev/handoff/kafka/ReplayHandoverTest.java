package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The replay is read with bulk-read settings by a consumer of its own, which hands its positions
 * over to the long-lived consumer with the steady settings once caught up: on a real broker, with a
 * writer appending all along, every record is handed to the sink exactly once.
 */
class ReplayHandoverTest {

  private static final long MIB = 1 << 20;
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.builder().brokers(1).start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  /** Keeps, per client id, the records each consumer has consumed (its last value once closed). */
  public static class ConsumedRecorder implements MetricsReporter {
    static final Map<String, Double> CLOSED = new ConcurrentHashMap<>();
    static final Map<String, KafkaMetric> LIVE = new ConcurrentHashMap<>();
    private volatile KafkaMetric mine;

    static double consumed(String clientId) {
      KafkaMetric m = LIVE.get(clientId);
      return m != null ? value(m) : CLOSED.getOrDefault(clientId, 0.0);
    }

    private static double value(KafkaMetric m) {
      return ((Number) m.metricValue()).doubleValue();
    }

    @Override
    public void configure(Map<String, ?> configs) {}

    @Override
    public void init(List<KafkaMetric> metrics) {
      metrics.forEach(this::metricChange);
    }

    @Override
    public void metricChange(KafkaMetric metric) {
      var name = metric.metricName();
      if (name.group().equals("consumer-fetch-manager-metrics")
          && name.name().equals("records-consumed-total")
          && !name.tags().containsKey("topic")) {
        mine = metric;
        LIVE.put(name.tags().get("client-id"), metric);
      }
    }

    @Override
    public void metricRemoval(KafkaMetric metric) {}

    @Override
    public void close() {
      KafkaMetric m = mine;
      if (m != null) {
        String id = m.metricName().tags().get("client-id");
        CLOSED.put(id, value(m));
        LIVE.remove(id);
      }
    }
  }

  private static KafkaDeltaLogBuilder logOn(String topic) {
    return KafkaDeltaLog.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topic(topic)
        .partitions(4)
        .replicationFactor(1)
        .requestTimeout(Duration.ofSeconds(20));
  }

  private static SlotRecord state(String session, long seq) {
    return new SlotRecord(
        session,
        "writer#1",
        new SlotState(1, SlotState.SELF, seq, 1000 + seq, new byte[1024], false));
  }

  @Test
  void aNodeReplaysWithTheReplaySettingsThenTailsWithTheSteadyOnesLosingAndRepeatingNothing()
      throws Exception {
    String topic = "handover-1";
    var acked = new CopyOnWriteArrayList<LogPosition>();
    try (var writer = logOn(topic).build()) {
      writer.start(e -> {}).get(30, TimeUnit.SECONDS);
      var inFlight = new Semaphore(1000);
      var acks = new ArrayList<CompletableFuture<LogPosition>>();
      for (int i = 0; i < 6000; i++) {
        inFlight.acquire();
        var ack = writer.append(state("replayed-" + i, i + 1));
        ack.whenComplete((p, e) -> inFlight.release());
        acks.add(
            ack.thenApply(
                p -> {
                  acked.add(p);
                  return p;
                }));
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

      // A writer appends all along: before, during and after the handover.
      var writing = new AtomicBoolean(true);
      var written = new AtomicInteger();
      var live =
          CompletableFuture.runAsync(
              () -> {
                while (writing.get()) {
                  int i = written.incrementAndGet();
                  acked.add(writer.append(state("live-" + i, i)).join());
                }
              });

      var delivered = new CopyOnWriteArrayList<LogPosition>();
      var deliveredWhileReady = new AtomicInteger();
      String clientId = topic + "-node";
      try (var node =
          logOn(topic)
              .memoryBudget(64 * MIB)
              .clientProperty("client.id", clientId)
              .clientProperty(
                  "metric.reporters",
                  ConfigRecorder.class.getName() + "," + ConsumedRecorder.class.getName())
              .build()) {
        node.start(
                e -> {
                  if (node.isReady()) {
                    deliveredWhileReady.incrementAndGet();
                  }
                  delivered.add(new LogPosition(e.partition(), e.offset()));
                })
            .get(60, TimeUnit.SECONDS);
        int atReady = written.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> written.get() >= atReady + 300);
        writing.set(false);
        live.get(30, TimeUnit.SECONDS);
        node.barrier().get(30, TimeUnit.SECONDS);

        var expected = ClientBuffers.derive(64 * MIB, 4, 4);
        String replayId = clientId + "-handoff-log-replay-" + topic;
        String readerId = clientId + "-handoff-log-reader-" + topic;
        assertThat(expected.replayPartitionFetchBytes())
            .isGreaterThan(expected.partitionFetchBytes());
        assertThat(ConfigRecorder.CONFIGS.get(replayId))
            .containsEntry("max.partition.fetch.bytes", expected.replayPartitionFetchBytes())
            .containsEntry("fetch.max.bytes", expected.replayFetchMaxBytes())
            .containsEntry("max.poll.records", expected.replayMaxPollRecords());
        assertThat(ConfigRecorder.CONFIGS.get(readerId))
            .containsEntry("max.partition.fetch.bytes", expected.partitionFetchBytes())
            .containsEntry("fetch.max.bytes", expected.fetchMaxBytes())
            .containsEntry("max.poll.records", expected.maxPollRecords());
        // The replay consumer read the replay and is closed; the steady one read the tail.
        assertThat(ConsumedRecorder.LIVE).doesNotContainKey(replayId).containsKey(readerId);
        assertThat(ConsumedRecorder.consumed(replayId)).isGreaterThanOrEqualTo(6000);
        assertThat(deliveredWhileReady.get()).isGreaterThanOrEqualTo(300);
        assertThat(ConsumedRecorder.consumed(readerId))
            .isGreaterThanOrEqualTo(deliveredWhileReady.get());

        // Every record written is handed over exactly once, across the handover.
        assertThat(new HashSet<>(delivered)).hasSameSizeAs(delivered);
        assertThat(delivered).containsAll(acked);
        assertThat(acked).hasSize(6000 + written.get());
      }
    }
  }
}
