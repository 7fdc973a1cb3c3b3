package dev.handoff.testkit;

import static dev.handoff.testkit.KafkaClients.createTopic;
import static dev.handoff.testkit.KafkaClients.produceAll;
import static dev.handoff.testkit.KafkaClients.readAll;
import static dev.handoff.testkit.KafkaClients.records;
import static dev.handoff.testkit.KafkaClients.values;
import static dev.handoff.testkit.StartTimes.timed;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerProcessTest {

  @Test
  void acknowledgedRecordsSurviveKillMinusNine(@TempDir Path dir) throws Exception {
    try (var broker = timed("Kafka broker process", () -> KafkaBrokerProcess.start(dir))) {
      String topic = "durable";
      createTopic(broker.bootstrapServers(), topic, 1, (short) 1, Map.of());
      List<String[]> batch = records("k", 1_000, 1_000);
      produceAll(broker.bootstrapServers(), topic, batch);

      long pid = broker.pid();
      broker.sigkill();
      assertThat(broker.isAlive()).isFalse();
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();

      timed(
          "Kafka broker process restart",
          () -> {
            broker.restart();
            return broker;
          });
      assertThat(broker.pid()).isNotEqualTo(pid);
      assertThat(values(readAll(broker.bootstrapServers(), topic)))
          .containsExactlyElementsOf(batch.stream().map(kv -> kv[1]).toList());

      broker.sigterm();
      assertThat(broker.isAlive()).isFalse();
    }
  }
}
