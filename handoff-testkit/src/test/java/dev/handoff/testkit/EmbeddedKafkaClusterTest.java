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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaClusterTest {

  @Test
  void topicWithThreeReplicasKeepsServingAcksAllAfterOneBrokerStops() throws Exception {
    try (var kafka = timed("Kafka 3 brokers", () -> EmbeddedKafka.builder().brokers(3).start());
        Admin admin = Admin.create(kafka.adminProperties())) {
      assertThat(kafka.brokers()).isEqualTo(3);
      String topic = "replicated";
      createTopic(
          kafka.bootstrapServers(), topic, 1, (short) 3, Map.of("min.insync.replicas", "2"));
      List<String[]> before = records("a", 100, 100);
      produceAll(kafka.bootstrapServers(), topic, before);
      int leader = partition0(admin, topic).leader().id();

      kafka.stopBroker(leader);
      assertThat(kafka.isRunning(leader)).isFalse();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                var p = partition0(admin, topic);
                return p.leader() != null && p.leader().id() != leader && p.isr().size() == 2;
              });

      List<String[]> after = records("b", 100, 100);
      produceAll(kafka.bootstrapServers(), topic, after);
      List<String> expected = new ArrayList<>();
      before.forEach(kv -> expected.add(kv[1]));
      after.forEach(kv -> expected.add(kv[1]));
      assertThat(values(readAll(kafka.bootstrapServers(), topic)))
          .containsExactlyElementsOf(expected);

      kafka.startBroker(leader);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> partition0(admin, topic).isr().size() == 3);
    }
  }

  private static TopicPartitionInfo partition0(Admin admin, String topic) throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(10, TimeUnit.SECONDS)
        .get(topic)
        .partitions()
        .get(0);
  }
}
