package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Plain Kafka clients for the tests: create a topic, produce with acks=all, read it all. */
final class KafkaClients {
  private KafkaClients() {}

  static void createTopic(
      String bootstrap, String topic, int partitions, short rf, Map<String, String> configs)
      throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, rf).configs(configs)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  static KafkaProducer<String, String> producer(String bootstrap) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  /** Sends key/value pairs and waits until every one is acknowledged by all in-sync replicas. */
  static void produceAll(String bootstrap, String topic, List<String[]> keyValues)
      throws Exception {
    try (var producer = producer(bootstrap)) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (String[] kv : keyValues) {
        acks.add(producer.send(new ProducerRecord<>(topic, kv[0], kv[1])));
      }
      for (var ack : acks) {
        assertThat(ack.get(60, TimeUnit.SECONDS).offset()).isNotNegative();
      }
    }
  }

  /** Reads every record of partition 0 of {@code topic} from its start to its current end. */
  static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (var consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      var tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
      List<ConsumerRecord<String, String>> out = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (consumer.position(tp, Duration.ofSeconds(30)) < end) {
        assertThat(System.nanoTime() - deadline)
            .as("read %s to offset %d", topic, end)
            .isNegative();
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }

  static List<String[]> records(String keyPrefix, int keys, int count) {
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(new String[] {keyPrefix + (i % keys), "value-" + i});
    }
    return out;
  }

  static List<String> values(List<ConsumerRecord<String, String>> records) {
    return records.stream().map(ConsumerRecord::value).toList();
  }
}
