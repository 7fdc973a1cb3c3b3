package dev.handoff.testkit;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** What a topic holds now, read with a bare consumer: for tests that watch compaction. */
public final class TopicRecords {
  private TopicRecords() {}

  /**
   * Reads every partition of {@code topic} from its beginning to the end offsets read at the call
   * and counts the records {@code filter} accepts.
   *
   * @param clientProperties Kafka client settings; {@code bootstrap.servers} at least (for example
   *     {@link HandoffEnvironment#kafkaAdminProperties()})
   */
  public static long count(
      Map<String, Object> clientProperties,
      String topic,
      Predicate<ConsumerRecord<byte[], byte[]>> filter) {
    var props = new HashMap<>(clientProperties);
    props.put("key.deserializer", ByteArrayDeserializer.class);
    props.put("value.deserializer", ByteArrayDeserializer.class);
    props.put("enable.auto.commit", false);
    try (var consumer = new KafkaConsumer<byte[], byte[]>(props)) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      long count = 0;
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          if (filter.test(r)) {
            count++;
          }
        }
      }
      return count;
    }
  }
}
