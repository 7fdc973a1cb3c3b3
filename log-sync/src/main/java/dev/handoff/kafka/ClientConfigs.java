package dev.handoff.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;

/**
 * Builds the producer, consumer and admin configurations from the user's pass-through properties
 * and the settings the log's guarantees depend on.
 *
 * <p>A pass-through property goes to every client, except one that only another kind of client
 * knows (for example {@code linger.ms} does not go to the consumer): security settings ({@code
 * security.protocol}, {@code sasl.*}, {@code ssl.*}) and unknown plug-in properties reach all
 * three.
 */
final class ClientConfigs {

  /** Settings the log decides; giving another value is a configuration error. */
  private static final Map<String, Set<String>> REQUIRED =
      Map.of(
          ProducerConfig.ACKS_CONFIG, Set.of("all", "-1"),
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Set.of("true"),
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, Set.of("false"));

  /** Settings the log owns entirely; the user may not give them at all. */
  private static final Set<String> OWNED =
      Set.of(
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.PARTITIONER_CLASS_CONFIG,
          ProducerConfig.TRANSACTIONAL_ID_CONFIG,
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
          ConsumerConfig.GROUP_ID_CONFIG,
          ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
          ConsumerConfig.ISOLATION_LEVEL_CONFIG);

  private ClientConfigs() {}

  /**
   * @throws IllegalArgumentException naming the property if it would break a guarantee of the log
   */
  static void validate(Map<String, Object> passThrough) {
    for (var e : passThrough.entrySet()) {
      String key = e.getKey();
      if (OWNED.contains(key)) {
        throw new IllegalArgumentException(
            "client property '" + key + "' is set by KafkaDeltaLog itself; remove it");
      }
      Set<String> allowed = REQUIRED.get(key);
      if (allowed != null && !allowed.contains(String.valueOf(e.getValue()).trim().toLowerCase())) {
        throw new IllegalArgumentException(
            "client property '"
                + key
                + "="
                + e.getValue()
                + "' is not allowed: KafkaDeltaLog needs "
                + key
                + "="
                + allowed.iterator().next()
                + " for its durability guarantees");
      }
    }
  }

  static Map<String, Object> producer(
      Map<String, Object> passThrough, String bootstrap, String clientId) {
    return producer(passThrough, bootstrap, clientId, null);
  }

  /** The producer's configuration; {@code buffers} (if not null) sets what the user did not. */
  static Map<String, Object> producer(
      Map<String, Object> passThrough, String bootstrap, String clientId, ClientBuffers buffers) {
    Map<String, Object> c = new HashMap<>();
    if (buffers != null) {
      c.putAll(buffers.producer());
    }
    c.putAll(select(passThrough, ProducerConfig.configNames()));
    // Every write waits for its own read-back, and a transfer is two writes in a row: Kafka 4's
    // default linger of 5 ms would add up to 5 ms to each. 1 ms still lets batches form under load.
    c.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 1);
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ProducerConfig.CLIENT_ID_CONFIG, clientId(passThrough, clientId));
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return c;
  }

  static Map<String, Object> consumer(
      Map<String, Object> passThrough, String bootstrap, String clientId) {
    return consumer(passThrough, bootstrap, clientId, null);
  }

  /** The consumer's configuration; {@code buffers} (if not null) sets what the user did not. */
  static Map<String, Object> consumer(
      Map<String, Object> passThrough, String bootstrap, String clientId, ClientBuffers buffers) {
    return consumerWith(
        passThrough, bootstrap, clientId, buffers == null ? null : buffers.consumer());
  }

  /**
   * The replay consumer's configuration: {@code buffers}' bulk-read settings where the user gave
   * none (a property given wins here too).
   */
  static Map<String, Object> replayConsumer(
      Map<String, Object> passThrough, String bootstrap, String clientId, ClientBuffers buffers) {
    return consumerWith(passThrough, bootstrap, clientId, buffers.replayConsumer());
  }

  private static Map<String, Object> consumerWith(
      Map<String, Object> passThrough,
      String bootstrap,
      String clientId,
      Map<String, Object> derived) {
    Map<String, Object> c = new HashMap<>();
    // Replay throughput: large polls; the user may still override these.
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    if (derived != null) {
      c.putAll(derived);
    }
    c.putAll(select(passThrough, ConsumerConfig.configNames()));
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId(passThrough, clientId));
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    // Slices of the fetched data, not copies: the reader decodes them in place.
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class);
    return c;
  }

  static Map<String, Object> admin(
      Map<String, Object> passThrough, String bootstrap, String clientId) {
    Map<String, Object> c = select(passThrough, AdminClientConfig.configNames());
    c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId(passThrough, clientId));
    return c;
  }

  private static String clientId(Map<String, Object> passThrough, String suffix) {
    Object base = passThrough.get(ProducerConfig.CLIENT_ID_CONFIG);
    return base == null ? suffix : base + "-" + suffix;
  }

  private static Map<String, Object> select(Map<String, Object> passThrough, Set<String> known) {
    Map<String, Object> out = new HashMap<>();
    for (var e : passThrough.entrySet()) {
      String key = e.getKey();
      boolean knownElsewhere =
          ProducerConfig.configNames().contains(key)
              || ConsumerConfig.configNames().contains(key)
              || AdminClientConfig.configNames().contains(key);
      if (known.contains(key) || !knownElsewhere) {
        out.put(key, e.getValue());
      }
    }
    return out;
  }
}
