package dev.handoff.kafka;

import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.StateCodecException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Read-only tooling API: reads a delta log's topic once, from the beginning to the end offsets
 * taken when the read starts, and decodes every record with the log's wire format. Meant for
 * operator tools such as {@code handoff-cli}; applications use {@link KafkaDeltaLog}.
 *
 * <p>It never writes, joins no consumer group and commits nothing: one consumer assigned to every
 * partition. Records it cannot decode are handed over as {@link Undecodable} with the reason, not
 * skipped silently. Writer schemas found in the topic are kept, so {@link #decodeState} can read a
 * state written by any application version whose schema was published.
 *
 * <p>Not thread-safe: one thread calls {@link #readToEnd} and the other methods. {@link #close()}
 * is idempotent.
 */
public final class TopicReader implements AutoCloseable {

  /** One record of the topic, with where it sits. */
  public sealed interface Entry {
    /** The record's partition. */
    int partition();

    /** The record's offset in its partition. */
    long offset();

    /** The record's Kafka timestamp, in epoch milliseconds. */
    long timestamp();

    /** The record's serialized key and value size, in bytes. */
    int bytes();
  }

  /**
   * A data record: one writer's state for one session, or a tombstone ({@code record.state()} is
   * null) that removes that slot.
   *
   * @param partition the record's partition
   * @param offset the record's offset
   * @param timestamp the record's Kafka timestamp, epoch milliseconds
   * @param bytes the serialized key and value size
   * @param record the decoded slot record
   */
  public record SlotEntry(int partition, long offset, long timestamp, int bytes, SlotRecord record)
      implements Entry {}

  /**
   * A reserved record carrying an Avro writer schema (of the wire format or of application state).
   *
   * @param partition the record's partition
   * @param offset the record's offset
   * @param timestamp the record's Kafka timestamp, epoch milliseconds
   * @param bytes the serialized key and value size
   * @param fingerprint the schema's CRC-64-AVRO fingerprint, as in its key
   * @param schema the schema, or null for a tombstone of the reserved key
   */
  public record SchemaEntry(
      int partition, long offset, long timestamp, int bytes, long fingerprint, Schema schema)
      implements Entry {}

  /**
   * The reserved record that holds the partition count the topic is used with.
   *
   * @param partition the record's partition
   * @param offset the record's offset
   * @param timestamp the record's Kafka timestamp, epoch milliseconds
   * @param bytes the serialized key and value size
   * @param partitions the partition count it records, or -1 for a tombstone of the reserved key
   */
  public record LayoutEntry(int partition, long offset, long timestamp, int bytes, int partitions)
      implements Entry {}

  /**
   * A record this version cannot decode; a {@link KafkaDeltaLog} skips and counts it.
   *
   * @param partition the record's partition
   * @param offset the record's offset
   * @param timestamp the record's Kafka timestamp, epoch milliseconds
   * @param bytes the serialized key and value size
   * @param reason why it cannot be decoded
   */
  public record Undecodable(int partition, long offset, long timestamp, int bytes, String reason)
      implements Entry {}

  private final String topic;
  private final Duration timeout;
  private final KafkaConsumer<ByteBuffer, ByteBuffer> consumer;
  private final WriterSchemas schemas = new WriterSchemas();
  private final WireFormat wire = new WireFormat(schemas);
  private final Map<Long, SingleObject.Reader<GenericRecord>> stateReaders = new HashMap<>();
  private boolean closed;
  private int partitionCount;

  private TopicReader(
      String bootstrapServers, String topic, Map<String, ?> clientProperties, Duration timeout) {
    this.topic = topic;
    this.timeout = timeout;
    var config =
        ClientConfigs.consumer(
            new HashMap<>(clientProperties), bootstrapServers, "handoff-topic-reader-" + topic);
    // Read-only: asking for a missing topic's metadata must never create it.
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    this.consumer = new KafkaConsumer<>(config);
    schemas.add(WireFormat.SLOT_STATE_V1);
  }

  /**
   * A reader of {@code topic}. Connects lazily: nothing is sent before {@link #readToEnd}.
   *
   * @param bootstrapServers the cluster, {@code host:port,...}
   * @param topic the delta log's topic
   * @param clientProperties any consumer properties (security settings, timeouts); may be empty
   * @param timeout how long a metadata or offset request, and a poll that brings nothing new, may
   *     take before the read fails
   */
  public static TopicReader open(
      String bootstrapServers, String topic, Map<String, ?> clientProperties, Duration timeout) {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(clientProperties, "clientProperties");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return new TopicReader(bootstrapServers, topic, clientProperties, timeout);
  }

  /** The topic this reader reads. */
  public String topic() {
    return topic;
  }

  /**
   * Reads every record from the beginning of every partition up to the end offsets read when the
   * call starts, in offset order per partition, and hands each to {@code visitor}. Returns the end
   * offsets that were read to.
   *
   * @throws KafkaDeltaLogException if the topic does not exist ({@code getCause()} is an {@link
   *     UnknownTopicOrPartitionException}), or the cluster does not answer within the timeout
   */
  public Map<Integer, Long> readToEnd(Consumer<? super Entry> visitor) {
    Objects.requireNonNull(visitor, "visitor");
    List<PartitionInfo> infos;
    try {
      infos = consumer.partitionsFor(topic, timeout);
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw unreachable("read the partitions of", e);
    }
    if (infos == null || infos.isEmpty()) {
      String message = "Topic '" + topic + "' does not exist";
      throw new KafkaDeltaLogException(message, new UnknownTopicOrPartitionException(message));
    }
    partitionCount = infos.size();
    var partitions = new ArrayList<TopicPartition>();
    for (var info : infos) {
      partitions.add(new TopicPartition(topic, info.partition()));
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end;
    try {
      end = consumer.endOffsets(partitions, timeout);
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw unreachable("read the end offsets of", e);
    }
    long lastProgress = System.nanoTime();
    while (!reachedEnd(end)) {
      int n;
      try {
        var batch = consumer.poll(Duration.ofMillis(200));
        n = batch.count();
        for (ConsumerRecord<ByteBuffer, ByteBuffer> r : batch) {
          visitor.accept(decode(r));
        }
      } catch (RecordDeserializationException e) {
        // The client could not parse the record itself: report it and step over it, as the log
        // does.
        var tp = e.topicPartition();
        visitor.accept(new Undecodable(tp.partition(), e.offset(), -1, 0, e.getMessage()));
        consumer.seek(tp, e.offset() + 1);
        n = 1;
      }
      if (n > 0) {
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > timeout.toNanos()) {
        throw unreachable("read to the end of", null);
      }
    }
    var out = new HashMap<Integer, Long>();
    end.forEach((tp, offset) -> out.put(tp.partition(), offset));
    return out;
  }

  /** A writer schema found in the topic so far (or the wire schema this version writes). */
  public Optional<Schema> writerSchema(long fingerprint) {
    return Optional.ofNullable(schemas.findByFingerprint(fingerprint));
  }

  /**
   * The writer-schema fingerprint of a state in Avro single-object encoding (what {@link
   * AvroStateCodec} writes); empty if the bytes are not in that encoding (another codec).
   */
  public static OptionalLong stateFingerprint(byte[] state) {
    Objects.requireNonNull(state, "state");
    try {
      return OptionalLong.of(SingleObject.readFingerprint(state));
    } catch (UndecodableRecordException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Decodes a state written by an {@link AvroStateCodec} with its own writer schema, as found in
   * the topic (so call it after {@link #readToEnd}). No reader schema is needed: the record has
   * exactly the fields its writer wrote.
   *
   * @throws StateCodecException if the bytes are not single-object encoded, their writer schema was
   *     not found in the topic, or they do not match it
   */
  public GenericRecord decodeState(byte[] state) {
    Objects.requireNonNull(state, "state");
    try {
      long fp = SingleObject.readFingerprint(state);
      Schema writer = schemas.findByFingerprint(fp);
      if (writer == null) {
        throw new UndecodableRecordException(
            String.format("writer schema %016x is not in topic '%s'", fp, topic));
      }
      return stateReaders
          .computeIfAbsent(fp, f -> new SingleObject.Reader<>(GenericData.get(), writer, schemas))
          .read(state);
    } catch (UndecodableRecordException e) {
      throw new StateCodecException("Cannot decode state: " + e.getMessage(), e);
    }
  }

  /** Closes the consumer. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      consumer.close(timeout);
    }
  }

  private boolean reachedEnd(Map<TopicPartition, Long> end) {
    for (var e : end.entrySet()) {
      if (consumer.position(e.getKey(), timeout) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private Entry decode(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    int size = Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
    int p = r.partition();
    long o = r.offset();
    long ts = r.timestamp();
    try {
      byte[] k = bytes(r.key());
      byte[] v = bytes(r.value());
      LogKey key = LogKey.decode(k);
      if (key instanceof LogKey.Slot slot) {
        // The reader skips these too: the core never sees them.
        int home = KafkaDeltaLog.partitionFor(slot.session(), partitionCount);
        if (home != p) {
          return new Undecodable(
              p, o, ts, size, "session '" + slot.session() + "' belongs in partition " + home);
        }
        if (!LogKey.isWriterId(slot.writer())) {
          return new Undecodable(
              p, o, ts, size, "writer '" + slot.writer() + "' is not memberId#epoch");
        }
        var state = v == null ? null : wire.decode(v);
        return new SlotEntry(p, o, ts, size, new SlotRecord(slot.session(), slot.writer(), state));
      }
      if (key instanceof LogKey.Layout) {
        int count = v == null ? -1 : PartitionLayout.decodeValue(v, 0, v.length);
        return new LayoutEntry(p, o, ts, size, count);
      }
      var ws = (LogKey.WriterSchema) key;
      Schema schema = v == null ? null : WriterSchemas.decodeValue(ws.fingerprint(), v);
      if (schema != null) {
        schemas.add(schema);
      }
      return new SchemaEntry(p, o, ts, size, ws.fingerprint(), schema);
    } catch (UndecodableRecordException | IllegalArgumentException e) {
      return new Undecodable(p, o, ts, size, e.getMessage());
    }
  }

  private static byte[] bytes(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private KafkaDeltaLogException unreachable(String what, Throwable cause) {
    return new KafkaDeltaLogException(
        "Could not "
            + what
            + " topic '"
            + topic
            + "' within "
            + timeout
            + " (is the cluster reachable? check bootstrap.servers and security settings)",
        cause);
  }
}
