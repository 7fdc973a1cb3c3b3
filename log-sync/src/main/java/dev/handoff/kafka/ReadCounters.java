package dev.handoff.kafka;

import dev.handoff.kafka.KafkaDeltaLog.SkipReason;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The default {@link ReadRecorder}: totals since start, written by the reader thread and read by
 * any thread through {@link KafkaDeltaLog}'s counters.
 */
final class ReadCounters implements ReadRecorder {

  private static final SkipReason[] REASONS = SkipReason.values();

  private final AtomicLong recordsRead = new AtomicLong();
  private final AtomicLong bytesRead = new AtomicLong();
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLongArray skipped = new AtomicLongArray(REASONS.length);

  @Override
  public void recordRead(int bytes) {
    recordsRead.incrementAndGet();
    bytesRead.addAndGet(bytes);
  }

  @Override
  public void recordApplied() {
    applied.incrementAndGet();
  }

  @Override
  public void recordSkipped(SkipReason reason) {
    skipped.incrementAndGet(reason.ordinal());
  }

  long recordsRead() {
    return recordsRead.get();
  }

  long bytesRead() {
    return bytesRead.get();
  }

  long recordsApplied() {
    return applied.get();
  }

  long skipped(SkipReason reason) {
    return skipped.get(reason.ordinal());
  }

  /** Every record the log itself skipped: all reasons but {@link SkipReason#SINK_FAILED}. */
  long skippedByTheLog() {
    long total = 0;
    for (SkipReason r : REASONS) {
      if (r != SkipReason.SINK_FAILED) {
        total += skipped.get(r.ordinal());
      }
    }
    return total;
  }

  long sinkFailures() {
    return skipped(SkipReason.SINK_FAILED);
  }
}
