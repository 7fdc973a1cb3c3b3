package dev.handoff.kafka;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;

/**
 * The partition count a log is used with, which must never change: a session's partition is its
 * hash modulo the count, so a change would split a session's records (and its claims) over two
 * partitions.
 *
 * <p>Two guards, both fatal for the reader: the count is recorded in the topic itself, in a
 * reserved layout record ({@link LogKey#LAYOUT}, written once to partition 0 by the first node that
 * finds none after its replay; compaction keeps it, as the only record under its key), and a
 * starting node whose topic has another count refuses to start. A running node looks the count up
 * every {@link #CHECK_INTERVAL} and stops if it changed.
 *
 * <p>Value of the layout record: {@code 0x01}, then the partition count as a 4-byte big-endian int.
 * Used by the reader thread only.
 */
final class PartitionLayout {

  static final Duration CHECK_INTERVAL = Duration.ofSeconds(5);
  private static final byte VALUE_V1 = 0x01;

  private final String topic;
  private final int partitions;
  private final Admin admin;
  private final Duration requestTimeout;
  private long nextCheckNanos;
  private volatile boolean checkInFlight;
  private volatile int observed;
  private boolean recorded;

  PartitionLayout(String topic, int partitions, Admin admin, Duration requestTimeout) {
    this.topic = topic;
    this.partitions = partitions;
    this.admin = admin;
    this.requestTimeout = requestTimeout;
    this.observed = partitions;
    this.nextCheckNanos = System.nanoTime() + CHECK_INTERVAL.toNanos();
  }

  static byte[] encodeValue(int partitions) {
    return ByteBuffer.allocate(5).put(VALUE_V1).putInt(partitions).array();
  }

  /**
   * @throws UndecodableRecordException if the value is not a version-1 layout
   */
  static int decodeValue(byte[] value, int offset, int length) {
    if (length != 5 || value[offset] != VALUE_V1) {
      throw new UndecodableRecordException("layout record has no version-1 value");
    }
    int count = ByteBuffer.wrap(value, offset + 1, 4).getInt();
    if (count <= 0) {
      throw new UndecodableRecordException("layout record holds partition count " + count);
    }
    return count;
  }

  /** The partition count this node reads and writes with. */
  int partitions() {
    return partitions;
  }

  /** True once a layout record was read (with this count: another one is fatal). */
  boolean recorded() {
    return recorded;
  }

  /**
   * A layout record was read.
   *
   * @throws KafkaDeltaLogException if it records another partition count than the topic has
   */
  void onRecord(int recordedPartitions) {
    if (recordedPartitions != partitions) {
      throw new KafkaDeltaLogException(
          "Topic '"
              + topic
              + "' has "
              + partitions
              + " partitions, but its layout record says it was used with "
              + recordedPartitions
              + " partitions: partitions were added, or the topic was re-created with another"
              + " count. A session's partition is its hash modulo the partition count, so its"
              + " records and claims would be split; this node refuses to use the topic. Use a new"
              + " topic (or restore one with "
              + recordedPartitions
              + " partitions).");
    }
    recorded = true;
  }

  /**
   * Called by the reader on every loop: starts a cheap metadata lookup every {@link
   * #CHECK_INTERVAL} (asynchronously, on the admin client) and checks the last result.
   *
   * @throws KafkaDeltaLogException if the topic's partition count changed since start
   */
  void check() {
    int now = observed;
    if (now != partitions) {
      throw new KafkaDeltaLogException(
          "Topic '"
              + topic
              + "' now has "
              + now
              + " partitions; this node started with "
              + partitions
              + ". A session's partition is its hash modulo the partition count, so its records"
              + " and claims would be split between two partitions: the log stopped. Never add"
              + " partitions to a Handoff topic.");
    }
    long t = System.nanoTime();
    if (checkInFlight || t - nextCheckNanos < 0) {
      return;
    }
    checkInFlight = true;
    nextCheckNanos = t + CHECK_INTERVAL.toNanos();
    try {
      admin
          .describeTopics(
              List.of(topic),
              new DescribeTopicsOptions().timeoutMs((int) requestTimeout.toMillis()))
          .allTopicNames()
          .whenComplete(
              (topics, error) -> {
                // A failed lookup (broker away, log closing) is retried at the next interval.
                if (error == null && topics.containsKey(topic)) {
                  observed = topics.get(topic).partitions().size();
                }
                checkInFlight = false;
              });
    } catch (RuntimeException e) {
      checkInFlight = false;
    }
  }
}
