package dev.handoff.kafka;

import java.util.Locale;

/**
 * Whether the replica a replay builds, plus the log's client buffers, fits this JVM's heap: checked
 * by the reader as it replays, so that a node whose heap is too small fails at start with the
 * numbers instead of running out of memory later.
 *
 * <p>Every node holds every session: per session its state (the average state size read so far),
 * its key, and about {@link #SESSION_OVERHEAD} bytes of bookkeeping (measured on a ready node,
 * clients and session views included). Sessions are counted by their distinct slot keys (an
 * estimate within about 2%, in 4 KiB whatever the topic), so a topic not compacted yet, whose
 * sessions were written many times, is not mistaken for a larger one. The check fails if the
 * estimate plus the client buffers passes {@link #HEAP_SHARE} of the max heap: the rest is left to
 * writes in flight, the application and the garbage collector.
 */
final class HeapFit {

  /** Heap per session beyond its state and key bytes (measured: 337-435 B, see the README). */
  static final int SESSION_OVERHEAD = 400;

  /** Share of the max heap the replica and the client buffers may take. */
  static final double HEAP_SHARE = 0.8;

  // Between checks: at least this many bytes read (the check itself is a few microseconds).
  private static final long CHECK_EVERY_BYTES = 4L << 20;

  private final String topic;
  private final long maxHeap;
  private final long clientBuffers;
  private final boolean enabled;
  private final DistinctCount slots = new DistinctCount();
  private long dataRecords;
  private long stateBytes;
  private long keyBytes;
  private long checkedAtBytes;

  HeapFit(String topic, long maxHeap, long clientBuffers, boolean enabled) {
    this.topic = topic;
    this.maxHeap = maxHeap;
    this.clientBuffers = clientBuffers;
    this.enabled = enabled;
  }

  /** A slot record with a value was read: {@code key} holds its key bytes. Reader thread. */
  void onSlot(byte[] key, int offset, int length, int valueBytes) {
    dataRecords++;
    stateBytes += valueBytes;
    keyBytes += length;
    slots.add(key, offset, length);
  }

  /** Estimated sessions so far. */
  long sessions() {
    return dataRecords == 0 ? 0 : Math.min(dataRecords, slots.estimate());
  }

  /** Estimated heap the replica of the sessions read so far takes. */
  long replicaBytes() {
    long n = sessions();
    if (n == 0) {
      return 0;
    }
    // Key bytes on the wire hold the writer id too; a session key string is about as large.
    return n * ((stateBytes + keyBytes) / dataRecords + SESSION_OVERHEAD);
  }

  /** The most the replica and the client buffers may take. */
  long limit() {
    return (long) (maxHeap * HEAP_SHARE);
  }

  /**
   * Checks the estimate after a poll during replay, at most every few MiB read.
   *
   * @param percent share of the offsets to replay passed so far
   * @param bytesRead key and value bytes of every record read so far
   * @throws KafkaDeltaLogException naming the numbers if the replica and buffers do not fit
   */
  void check(double percent, long bytesRead) {
    if (!enabled || bytesRead - checkedAtBytes < CHECK_EVERY_BYTES) {
      return;
    }
    checkedAtBytes = bytesRead;
    long replica = replicaBytes();
    if (replica + clientBuffers > limit()) {
      throw new KafkaDeltaLogException(describe(percent, bytesRead, true));
    }
  }

  /** A line for the log at the end of the replay (or in a failure). */
  String describe(double percent, long bytesRead, boolean failing) {
    long n = sessions();
    long perSession = n == 0 ? 0 : replicaBytes() / n;
    String so = percent >= 100 ? "" : " so far";
    var sb =
        new StringBuilder()
            .append(failing ? "Topic '" + topic + "' does not fit this JVM's heap: " : "")
            .append(String.format(Locale.ROOT, "%,d sessions%s", n, so))
            .append(
                String.format(
                    Locale.ROOT,
                    " (%,d records, %s read, %.0f%% of the offsets to replay)",
                    dataRecords,
                    mib(bytesRead),
                    percent))
            .append(
                String.format(
                    Locale.ROOT,
                    " need about %s of heap (%,d B per session: %,d B of state and key + %,d B)",
                    mib(replicaBytes()),
                    perSession,
                    Math.max(0, perSession - SESSION_OVERHEAD),
                    SESSION_OVERHEAD))
            .append(" plus ")
            .append(mib(clientBuffers))
            .append(" of Kafka client buffers (memoryBudget); ")
            .append(failing ? "more than " : "the limit is ")
            .append(String.format(Locale.ROOT, "%.0f%%", HEAP_SHARE * 100))
            .append(" of the max heap of ")
            .append(mib(maxHeap))
            .append(" (")
            .append(mib(limit()))
            .append(")");
    if (failing) {
      long projected = percent > 0 && percent < 100 ? (long) (n * 100 / percent) : n;
      long needed = (long) ((projected * perSession + clientBuffers) / HEAP_SHARE);
      sb.append(
              String.format(
                  Locale.ROOT,
                  ". At this rate the topic holds about %,d sessions; give the JVM at least",
                  projected))
          .append(" -Xmx")
          .append((needed >> 20) + 1)
          .append("m, or lower memoryBudget. Nothing was written.");
    }
    return sb.toString();
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%,.1f MiB", bytes / (double) ClientBuffers.MIB);
  }

  /**
   * A distinct count of byte strings in 4 KiB of registers (HyperLogLog: each register keeps the
   * longest run of leading zeros of the hashes that pick it; the harmonic mean of 2^run estimates
   * the count, about 1.6% off). Small counts use the empty registers instead (linear counting).
   */
  static final class DistinctCount {
    private static final int BITS = 12;
    private static final int M = 1 << BITS;
    private static final double ALPHA = 0.7213 / (1 + 1.079 / M);
    private final byte[] registers = new byte[M];

    void add(byte[] b, int offset, int length) {
      long h = hash(b, offset, length);
      int index = (int) (h >>> (64 - BITS));
      int run = Long.numberOfLeadingZeros((h << BITS) | (1L << (BITS - 1))) + 1;
      if (run > registers[index]) {
        registers[index] = (byte) run;
      }
    }

    long estimate() {
      double sum = 0;
      int empty = 0;
      for (byte r : registers) {
        sum += 1.0 / (1L << r);
        if (r == 0) {
          empty++;
        }
      }
      double raw = ALPHA * M * M / sum;
      if (raw <= 2.5 * M && empty > 0) {
        return Math.round(M * Math.log((double) M / empty));
      }
      return Math.round(raw);
    }

    /** FNV-1a over the bytes, then a 64-bit finalizer so that every output bit depends on all. */
    static long hash(byte[] b, int offset, int length) {
      long h = 0xcbf29ce484222325L;
      for (int i = offset; i < offset + length; i++) {
        h ^= b[i] & 0xff;
        h *= 0x100000001b3L;
      }
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      h *= 0xc4ceb9fe1a85ec53L;
      h ^= h >>> 33;
      return h;
    }
  }
}
