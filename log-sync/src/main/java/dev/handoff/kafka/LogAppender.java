package dev.handoff.kafka;

import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * The write side of a {@link KafkaDeltaLog} once its topic is set up: owns the producer, refuses
 * records too large for the topic before sending anything, and sends each slot record to its
 * session's partition. Thread-safe.
 */
final class LogAppender {

  /** Kafka's default record limit, assumed before the topic's own is known. */
  private static final int DEFAULT_RECORD_LIMIT = 1048576;

  /** Bytes of a record's framing on top of its key and value, for the size check. */
  private static final int RECORD_OVERHEAD = 128;

  private final LogSettings settings;
  private final TopicSetup.Layout layout;
  private final KafkaProducer<byte[], byte[]> producer;
  private final CallbackThread callbacks;

  /**
   * @throws KafkaDeltaLogException if the topic cannot carry the configured {@code maxStateBytes}
   */
  LogAppender(
      LogSettings settings,
      TopicSetup.Layout layout,
      KafkaProducer<byte[], byte[]> producer,
      CallbackThread callbacks) {
    if (settings.maxStateBytesSet()
        && settings.maxStateBytes() > recordLimit(settings, layout) - LogSettings.FRAMING_RESERVE) {
      throw new KafkaDeltaLogException(
          "maxStateBytes="
              + settings.maxStateBytes()
              + " is more than topic '"
              + settings.topic()
              + "' accepts: max.message.bytes="
              + layout.maxMessageBytes()
              + " and producer max.request.size="
              + settings.maxRequestSize()
              + ", minus "
              + LogSettings.FRAMING_RESERVE
              + " bytes for key and framing. Raise both or lower maxStateBytes.");
    }
    this.settings = settings;
    this.layout = layout;
    this.producer = producer;
    this.callbacks = callbacks;
  }

  /**
   * The largest state accepted: the configured {@code maxStateBytes}, or the record limit minus the
   * framing reserve; with {@code layout == null} (topic not set up yet) Kafka's default limit.
   */
  static int maxStateBytes(LogSettings settings, TopicSetup.Layout layout) {
    if (settings.maxStateBytesSet()) {
      return settings.maxStateBytes();
    }
    int limit =
        layout == null
            ? Math.min(DEFAULT_RECORD_LIMIT, settings.maxRequestSize())
            : recordLimit(settings, layout);
    return limit - LogSettings.FRAMING_RESERVE;
  }

  int maxStateBytes() {
    return maxStateBytes(settings, layout);
  }

  CompletableFuture<LogPosition> append(SlotRecord record) {
    if (!LogKey.isWriterId(record.writer())) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "Writer id '"
                  + record.writer()
                  + "' of session '"
                  + record.session()
                  + "' is not memberId#epoch (an epoch of at least 0, no leading zeros); every"
                  + " reader would skip the record, so nothing was sent"));
    }
    byte[] key = LogKey.slot(record.session(), record.writer());
    byte[] value = record.isTombstone() ? null : WireFormat.encode(record.state());
    int stateBytes =
        record.isTombstone() || record.state().ended() ? 0 : record.state().value().length;
    int limit = maxStateBytes();
    if (stateBytes > limit) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "State of session '"
                  + record.session()
                  + "' is "
                  + stateBytes
                  + " bytes, over the limit of "
                  + limit
                  + " bytes (maxStateBytes of topic '"
                  + settings.topic()
                  + "'); nothing was sent"));
    }
    int recordBytes = key.length + (value == null ? 0 : value.length) + RECORD_OVERHEAD;
    int recordLimit = recordLimit(settings, layout);
    if (recordBytes > recordLimit) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "Record of session '"
                  + record.session()
                  + "' (writer '"
                  + record.writer()
                  + "') would be "
                  + recordBytes
                  + " bytes with its key, over the record limit of "
                  + recordLimit
                  + " bytes of topic '"
                  + settings.topic()
                  + "'; nothing was sent"));
    }
    int partition = KafkaDeltaLog.partitionFor(record.session(), layout.partitions());
    var result = new CompletableFuture<LogPosition>();
    try {
      producer.send(
          new ProducerRecord<>(settings.topic(), partition, key, value),
          (metadata, error) -> {
            if (error == null) {
              callbacks.complete(result, new LogPosition(metadata.partition(), metadata.offset()));
            } else {
              callbacks.fail(result, appendFailed(record, partition, error));
            }
          });
    } catch (KafkaException | IllegalStateException e) {
      result.completeExceptionally(appendFailed(record, partition, e));
    }
    return result;
  }

  /** Flushes and closes the producer, waiting up to {@code timeout}. */
  void close(Duration timeout) {
    producer.close(timeout);
  }

  private static int recordLimit(LogSettings settings, TopicSetup.Layout layout) {
    return Math.min(layout.maxMessageBytes(), settings.maxRequestSize());
  }

  private KafkaDeltaLogException appendFailed(SlotRecord record, int partition, Throwable e) {
    return new KafkaDeltaLogException(
        "Append to topic '"
            + settings.topic()
            + "' partition "
            + partition
            + " was not acknowledged for session '"
            + record.session()
            + "' (writer '"
            + record.writer()
            + "'): "
            + e,
        e);
  }
}
