package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Replay rate of KafkaDeltaLog next to a bare KafkaConsumer reading the same topic in the same run
 * (100k records of 1 KiB). Not part of the normal build; run with {@code mvn -pl log-sync verify
 * -Dtest=ReplayRateBenchmark -Dlog-sync.excludedGroups=none}.
 */
@Tag("benchmark")
class ReplayRateBenchmark {

  private static final int RECORDS = 100_000;
  private static final int VALUE_BYTES = 1024;
  private static final int ROUNDS = 5;

  @Test
  void replayRateNextToABareConsumer() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().brokers(1).start()) {
      String topic = "replay-bench";
      // Each round's log has its own listener; builder options are set once, so a fresh builder.
      Supplier<KafkaDeltaLogBuilder> builder =
          () ->
              KafkaDeltaLog.builder()
                  .bootstrapServers(kafka.bootstrapServers())
                  .topic(topic)
                  .replicationFactor(1);
      long t0 = System.nanoTime();
      try (KafkaDeltaLog writer = builder.get().build()) {
        writer.start(e -> {}).get(30, TimeUnit.SECONDS);
        var random = new Random(1);
        List<CompletableFuture<LogPosition>> acks = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
          byte[] value = new byte[VALUE_BYTES];
          random.nextBytes(value);
          acks.add(
              writer.append(
                  new SlotRecord(
                      "session-" + i, "node-1#1", new SlotState(1, -1, i, i, value, false))));
          if (acks.size() == 5000) {
            acks.forEach(CompletableFuture::join);
            acks.clear();
          }
        }
        acks.forEach(CompletableFuture::join);
      }
      System.out.printf(
          "BENCH produced %d x %d B via KafkaDeltaLog.append in %.1f s%n",
          RECORDS, VALUE_BYTES, (System.nanoTime() - t0) / 1e9);

      for (int round = 1; round <= ROUNDS; round++) {
        bare(kafka, topic, round);
        handoff(builder, round);
      }
    }
  }

  private static void bare(EmbeddedKafka kafka, String topic, int round) {
    long start = System.nanoTime();
    long records = 0;
    long bytes = 0;
    try (var consumer =
        new KafkaConsumer<byte[], byte[]>(
            Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "key.deserializer",
                ByteArrayDeserializer.class,
                "value.deserializer",
                ByteArrayDeserializer.class,
                "enable.auto.commit",
                false))) {
      List<TopicPartition> parts = new ArrayList<>();
      consumer
          .partitionsFor(topic)
          .forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      long readStart = System.nanoTime();
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          records++;
          bytes += r.serializedKeySize() + r.serializedValueSize();
        }
      }
      long now = System.nanoTime();
      print("bare KafkaConsumer", round, records, bytes, now - start, now - readStart);
    }
    assertThat(records).isGreaterThanOrEqualTo(RECORDS);
  }

  private static void handoff(Supplier<KafkaDeltaLogBuilder> builders, int round) throws Exception {
    var delivered = new AtomicLong();
    var done = new CompletableFuture<ReplayProgress>();
    var builder = builders.get();
    builder.listener(
        new KafkaDeltaLog.Listener() {
          @Override
          public void onReplayProgress(ReplayProgress p) {
            if (p.done()) {
              done.complete(p);
            }
          }
        });
    long start = System.nanoTime();
    try (KafkaDeltaLog log = builder.build()) {
      log.start(e -> delivered.incrementAndGet()).get(120, TimeUnit.SECONDS);
      long now = System.nanoTime();
      ReplayProgress p = done.get(1, TimeUnit.SECONDS);
      print("KafkaDeltaLog", round, p.records(), p.bytes(), now - start, p.elapsed().toNanos());
      assertThat(delivered.get()).isEqualTo(RECORDS);
      assertThat(log.skippedRecords()).isZero();
    }
  }

  private static void print(
      String what, int round, long records, long bytes, long totalNanos, long readNanos) {
    System.out.printf(
        "BENCH round %d %-18s %,d records %,d bytes: read %.3f s = %,.0f records/s %,.0f MB/s"
            + " (start to end incl. setup %.3f s)%n",
        round,
        what,
        records,
        bytes,
        readNanos / 1e9,
        records / (readNanos / 1e9),
        bytes / 1e6 / (readNanos / 1e9),
        totalNanos / 1e9);
  }
}
