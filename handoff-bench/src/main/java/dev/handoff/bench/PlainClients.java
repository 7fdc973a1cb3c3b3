package dev.handoff.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** The baselines' plain Kafka clients, configured as KafkaDeltaLog configures its own. */
final class PlainClients {
  private PlainClients() {}

  /** acks=all, idempotent, byte arrays; everything else Kafka's defaults, as KafkaDeltaLog's. */
  static KafkaProducer<byte[], byte[]> producer(Bench bench, String clientId) {
    Map<String, Object> c = new HashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bench.bootstrap());
    c.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(c);
  }

  static CompletableFuture<Void> send(
      KafkaProducer<byte[], byte[]> producer, String topic, byte[] key, byte[] value) {
    var f = new CompletableFuture<Void>();
    producer.send(
        new ProducerRecord<>(topic, key, value),
        (metadata, error) -> {
          if (error == null) {
            f.complete(null);
          } else {
            f.completeExceptionally(error);
          }
        });
    return f;
  }

  /** The average key and value sizes of Handoff's records carrying states, read from a topic. */
  record Shape(int keyBytes, int valueBytes) {}

  static Shape shapeOf(Bench bench, String topic, ClientProfile profile) {
    try (var consumer =
        new KafkaConsumer<byte[], byte[]>(bench.consumerConfig(profile, "bench-shape"))) {
      List<TopicPartition> tps =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      long keys = 0;
      long values = 0;
      int seen = 0;
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (seen < 100 && System.nanoTime() < deadline) {
        for (var r : consumer.poll(java.time.Duration.ofMillis(100))) {
          if (r.value() != null && r.value().length >= bench.options.valueBytes()) {
            keys += r.key().length;
            values += r.value().length;
            seen++;
          }
        }
      }
      if (seen == 0) {
        throw new IllegalStateException("no state records found in topic " + topic);
      }
      return new Shape((int) (keys / seen), (int) (values / seen));
    }
  }

  /** A key of exactly {@code length} bytes that starts with {@code session}. */
  static byte[] key(String session, int length) {
    byte[] s = session.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] k = new byte[Math.max(length, s.length)];
    System.arraycopy(s, 0, k, 0, s.length);
    for (int i = s.length; i < k.length; i++) {
      k[i] = '#';
    }
    return k;
  }
}
