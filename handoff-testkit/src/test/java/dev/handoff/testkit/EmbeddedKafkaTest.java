package dev.handoff.testkit;

import static dev.handoff.testkit.KafkaClients.createTopic;
import static dev.handoff.testkit.KafkaClients.produceAll;
import static dev.handoff.testkit.KafkaClients.readAll;
import static dev.handoff.testkit.KafkaClients.records;
import static dev.handoff.testkit.KafkaClients.values;
import static dev.handoff.testkit.StartTimes.timed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One broker shared by the tests of this class; topics are per test. */
class EmbeddedKafkaTest {
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka =
        timed(
            "Kafka single broker",
            () -> EmbeddedKafka.builder().brokers(1).fastCompaction(true).start());
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void compactedTopicDropsSupersededRecordsAndKeepsTheLastValuePerKey() throws Exception {
    String topic = "compacted";
    createTopic(
        kafka.bootstrapServers(), topic, 1, (short) 1, EmbeddedKafka.fastCompactionTopicConfig());
    int keys = 10;
    int written = 5_000;
    List<String[]> batch = records("key-", keys, written);
    produceAll(kafka.bootstrapServers(), topic, batch);
    Map<String, String> lastWritten = new HashMap<>();
    batch.forEach(kv -> lastWritten.put(kv[0], kv[1]));

    try (var producer = KafkaClients.producer(kafka.bootstrapServers())) {
      // Segments roll only on append; a record on another key after segment.ms lets it roll.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () -> {
                producer.send(new ProducerRecord<>(topic, "tick", "t")).get();
                return readAll(kafka.bootstrapServers(), topic).size() < written / 2;
              });
    }

    List<ConsumerRecord<String, String>> after = readAll(kafka.bootstrapServers(), topic);
    assertThat(after.size()).isLessThan(written / 2);
    Map<String, String> lastRead = new HashMap<>();
    after.forEach(r -> lastRead.put(r.key(), r.value()));
    lastRead.remove("tick");
    assertThat(lastRead).isEqualTo(lastWritten);
  }

  @Test
  void acknowledgedRecordsSurviveABrokerRestart() throws Exception {
    String topic = "durable";
    createTopic(kafka.bootstrapServers(), topic, 1, (short) 1, Map.of());
    List<String[]> batch = records("k", 1_000, 1_000);
    produceAll(kafka.bootstrapServers(), topic, batch);

    kafka.stopBroker(0);
    assertThat(kafka.isRunning(0)).isFalse();
    assertThat(Loopback.isListening(port(kafka.bootstrapServers()))).isFalse();
    kafka.startBroker(0);

    assertThat(values(readAll(kafka.bootstrapServers(), topic)))
        .containsExactlyElementsOf(batch.stream().map(kv -> kv[1]).toList());
  }

  static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }
}
