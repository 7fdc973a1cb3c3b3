package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A session's partition depends on the partition count, so the count must never change under a
 * running log, and a log must not start on a topic whose count differs from the one it was used
 * with.
 */
class PartitionLayoutTest {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.builder().brokers(1).start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  private static KafkaDeltaLog log(String topic) {
    return KafkaDeltaLog.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topic(topic)
        .partitions(2)
        .replicationFactor(1)
        .requestTimeout(Duration.ofSeconds(20))
        .build();
  }

  private static void addPartitions(String topic, int total) throws Exception {
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      admin
          .createPartitions(Map.of(topic, NewPartitions.increaseTo(total)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static SlotRecord record(String session) {
    return new SlotRecord(
        session, "node#1", new SlotState(1, SlotState.SELF, 1, 1, new byte[1], false));
  }

  @Test
  void partitionsAddedWhileRunningStopTheLogAndFailItsWrites() throws Exception {
    String topic = "layout-running";
    try (KafkaDeltaLog log = log(topic)) {
      log.start(new Recorder()).get(30, TimeUnit.SECONDS);
      log.append(record("s")).get(30, TimeUnit.SECONDS);
      addPartitions(topic, 3);
      assertThat(log.stopped())
          .failsWithin(Duration.ofSeconds(20))
          .withThrowableThat()
          .withMessageContaining("topic '" + topic + "'")
          .withMessageContaining("3 partitions")
          .withMessageContaining("2");
      assertThat(log.append(record("s")))
          .failsWithin(Duration.ofSeconds(1))
          .withThrowableThat()
          .withMessageContaining("3 partitions");
      assertThat(log.barrier())
          .failsWithin(Duration.ofSeconds(1))
          .withThrowableThat()
          .withMessageContaining("3 partitions");
    }
  }

  @Test
  void startIsRefusedOnATopicWhosePartitionCountDiffersFromTheRecordedOne() throws Exception {
    String topic = "layout-changed";
    try (KafkaDeltaLog first = log(topic)) {
      first.start(new Recorder()).get(30, TimeUnit.SECONDS);
      first.append(record("s")).get(30, TimeUnit.SECONDS);
    }
    addPartitions(topic, 3);
    try (KafkaDeltaLog later = log(topic)) {
      assertThat(later.start(new Recorder()))
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableThat()
          .havingRootCause()
          .isInstanceOf(KafkaDeltaLogException.class)
          .withMessageContaining("Topic '" + topic + "'")
          .withMessageContaining("3 partitions")
          .withMessageContaining("2 partitions");
      assertThat(later.stopped()).isCompletedExceptionally();
    }
  }

  @Test
  void aLayoutRecordNoNodeWroteIsSkipped() throws Exception {
    String topic = "layout-forged";
    try (KafkaDeltaLog running = log(topic)) {
      running.start(new Recorder()).get(30, TimeUnit.SECONDS);
      try (var raw =
          new KafkaProducer<byte[], byte[]>(
              Map.of(
                  "bootstrap.servers", kafka.bootstrapServers(),
                  "key.serializer", ByteArraySerializer.class,
                  "value.serializer", ByteArraySerializer.class))) {
        // More partitions than the topic has (partitions are never removed), and one outside
        // partition 0, where nodes write it.
        raw.send(new ProducerRecord<>(topic, 0, LogKey.layout(), PartitionLayout.encodeValue(5)))
            .get();
        raw.send(new ProducerRecord<>(topic, 1, LogKey.layout(), PartitionLayout.encodeValue(1)))
            .get();
      }
      running.append(record("s")).get(30, TimeUnit.SECONDS);
      running.barrier().get(30, TimeUnit.SECONDS);
      try (KafkaDeltaLog later = log(topic)) {
        later.start(new Recorder()).get(30, TimeUnit.SECONDS);
        for (KafkaDeltaLog log : List.of(running, later)) {
          assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.UNDECODABLE)).isEqualTo(1);
          assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.WRONG_PARTITION)).isEqualTo(1);
          assertThat(log.failureCause()).isEmpty();
        }
      }
    }
  }

  @Test
  void anUnchangedLayoutStartsAgainAndAgain() throws Exception {
    String topic = "layout-same";
    for (int i = 0; i < 3; i++) {
      try (KafkaDeltaLog log = log(topic)) {
        log.start(new Recorder()).get(30, TimeUnit.SECONDS);
        log.append(record("s" + i)).get(30, TimeUnit.SECONDS);
        assertThat(log.failureCause()).isEmpty();
      }
    }
  }
}
