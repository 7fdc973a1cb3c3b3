package dev.handoff.kafka;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The Kafka client buffers a {@link KafkaDeltaLog} derives from its memory budget ({@link
 * KafkaDeltaLogBuilder#memoryBudget}): the consumer's fetched data gets at most half, and no more
 * than Kafka's default of 1 MiB per partition; the producer's {@code buffer.memory} (records sent
 * and not yet acknowledged) gets the rest.
 *
 * <p>The consumer holds each partition's fetched data at most once, either buffered or in flight
 * (it does not fetch a partition it still has data of), so {@code max.partition.fetch.bytes} = the
 * consumer's share / partitions bounds it whatever the number of brokers; {@code fetch.max.bytes} =
 * half the consumer's share bounds one response, so that with one broker a response being handed to
 * the reader and the next one arriving fit too. A partition's first batch is returned even if it is
 * larger than {@code max.partition.fetch.bytes} (at most the topic's {@code max.message.bytes}).
 * {@code max.poll.records} only bounds how many records one poll hands over; their bytes are slices
 * of the fetched data.
 *
 * @param budget the memory budget, bytes
 * @param bufferMemory the producer's {@code buffer.memory}
 * @param fetchMaxBytes the consumer's {@code fetch.max.bytes}
 * @param partitionFetchBytes the consumer's {@code max.partition.fetch.bytes}
 *     <p>While the log replays its topic, the node writes nothing but its writer-schema and layout
 *     records, so the producer's share lies idle: the replay is read by a consumer of its own with
 *     bulk-read settings from half the budget ({@code replay*}, at most 16 MiB per partition and 64
 *     MiB a response, never less than the steady settings), which hands its positions over to the
 *     long-lived consumer with the steady settings once the end offsets taken at start are reached.
 * @param maxPollRecords the consumer's {@code max.poll.records}
 * @param replayFetchMaxBytes the replay consumer's {@code fetch.max.bytes}
 * @param replayPartitionFetchBytes the replay consumer's {@code max.partition.fetch.bytes}
 * @param replayMaxPollRecords the replay consumer's {@code max.poll.records}
 */
record ClientBuffers(
    long budget,
    long bufferMemory,
    int fetchMaxBytes,
    int partitionFetchBytes,
    int maxPollRecords,
    int replayFetchMaxBytes,
    int replayPartitionFetchBytes,
    int replayMaxPollRecords) {

  static final long MIB = 1 << 20;

  /** Smallest budget accepted: 4 MiB (the producer's half must hold a 1 MiB record and more). */
  static final long MIN_BUDGET = 4 * MIB;

  /** Largest default budget; a larger one must be asked for. */
  static final long MAX_DEFAULT_BUDGET = 256 * MIB;

  /** Kafka's own limits, which the derived values never exceed. */
  private static final int KAFKA_FETCH_MAX_BYTES = 50 * (int) MIB;

  private static final int KAFKA_PARTITION_FETCH_BYTES = (int) MIB;
  private static final int MAX_POLL_RECORDS = 5000;
  private static final int MIN_PARTITION_FETCH_BYTES = 16 * 1024;

  /** Bulk-read limits of the replay consumer: beyond them a fetch is not read faster. */
  private static final int REPLAY_FETCH_MAX_BYTES = 64 * (int) MIB;

  private static final int REPLAY_PARTITION_FETCH_BYTES = 16 * (int) MIB;
  private static final int REPLAY_MAX_POLL_RECORDS = 10_000;

  /** The default budget: an eighth of the max heap, between 16 MiB and 256 MiB. */
  static long defaultBudget(long maxHeap) {
    return Math.max(16 * MIB, Math.min(MAX_DEFAULT_BUDGET, maxHeap / 8));
  }

  /**
   * The settings derived from {@code budget}: the split between producer and consumer follows the
   * configured partition count (so that the producer's share is known before start), the consumer's
   * per-partition share the topic's actual one.
   */
  static ClientBuffers derive(long budget, int configuredPartitions, int partitions) {
    int p = Math.max(1, partitions);
    long consumerShare = consumerShare(budget, configuredPartitions);
    int partitionFetch =
        (int)
            Math.max(
                MIN_PARTITION_FETCH_BYTES,
                Math.min(KAFKA_PARTITION_FETCH_BYTES, consumerShare / p));
    int fetchMax =
        (int) Math.max(partitionFetch, Math.min(KAFKA_FETCH_MAX_BYTES, consumerShare / 2));
    // Records of a few hundred bytes or more: a poll never hands over many more than its bytes.
    int pollRecords = (int) Math.max(500, Math.min(MAX_POLL_RECORDS, fetchMax / 512));
    // Replay: half the budget, the producer's share being idle until ready.
    long replayShare = Math.max(consumerShare, budget / 2);
    int replayPartition =
        (int) Math.max(partitionFetch, Math.min(REPLAY_PARTITION_FETCH_BYTES, replayShare / p));
    int replayFetch = (int) Math.max(fetchMax, Math.min(REPLAY_FETCH_MAX_BYTES, replayShare / 2));
    replayFetch = Math.max(replayFetch, replayPartition);
    // Fetches no larger than the steady ones: nothing to gain from a consumer of its own.
    boolean bulk = replayFetch > fetchMax || replayPartition > partitionFetch;
    int replayPoll =
        bulk
            ? (int) Math.max(pollRecords, Math.min(REPLAY_MAX_POLL_RECORDS, replayFetch / 512))
            : pollRecords;
    return new ClientBuffers(
        budget,
        budget - consumerShare,
        fetchMax,
        partitionFetch,
        pollRecords,
        replayFetch,
        replayPartition,
        replayPoll);
  }

  /** Kafka's own max.partition.fetch.bytes for every partition is all a reader needs. */
  private static long consumerShare(long budget, int partitions) {
    return Math.min(budget / 2, (long) Math.max(1, partitions) * KAFKA_PARTITION_FETCH_BYTES);
  }

  /** The producer's share of {@code budget}: {@code buffer.memory}. */
  static long bufferMemory(long budget, int configuredPartitions) {
    return budget - consumerShare(budget, configuredPartitions);
  }

  /** The producer settings this budget sets (the user's own properties go on top). */
  Map<String, Object> producer() {
    return Map.of(ProducerConfig.BUFFER_MEMORY_CONFIG, bufferMemory);
  }

  /** The consumer settings this budget sets (the user's own properties go on top). */
  Map<String, Object> consumer() {
    var c = new LinkedHashMap<String, Object>();
    c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, fetchMaxBytes);
    c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, partitionFetchBytes);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    return c;
  }

  /** The replay consumer's settings (the user's own properties go on top). */
  Map<String, Object> replayConsumer() {
    var c = new LinkedHashMap<String, Object>();
    c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, replayFetchMaxBytes);
    c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, replayPartitionFetchBytes);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, replayMaxPollRecords);
    return c;
  }

  /**
   * The most the clients may hold with the properties actually given: {@code buffer.memory} plus
   * the consumer's fetched data, the smaller of {@code partitions} × {@code
   * max.partition.fetch.bytes} and two responses of {@code fetch.max.bytes}.
   */
  static long effectiveBytes(
      Map<String, Object> producer, Map<String, Object> consumer, int partitions) {
    long bufferMemory = longValue(producer.get(ProducerConfig.BUFFER_MEMORY_CONFIG), 32 * MIB);
    long partitionFetch =
        longValue(
            consumer.get(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
            KAFKA_PARTITION_FETCH_BYTES);
    long fetchMax =
        longValue(consumer.get(ConsumerConfig.FETCH_MAX_BYTES_CONFIG), KAFKA_FETCH_MAX_BYTES);
    return bufferMemory + Math.min((long) partitions * partitionFetch, 2 * fetchMax);
  }

  static long longValue(Object v, long fallback) {
    if (v == null) {
      return fallback;
    }
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(v.toString().trim());
    } catch (NumberFormatException e) {
      return fallback; // the client itself rejects it, naming the property
    }
  }
}
