package dev.handoff.kafka;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The default {@link ReadRecorder}: totals since start, written by the reader thread and read by
 * any thread through {@link KafkaDeltaLog}'s counters.
 */
final class ReadCounters implements ReadRecorder {

  private final AtomicLong recordsRead = new AtomicLong();
  private final AtomicLong bytesRead = new AtomicLong();
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong undecodable = new AtomicLong();
  private final AtomicLong sinkFailures = new AtomicLong();

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
    switch (reason) {
      case UNDECODABLE -> undecodable.incrementAndGet();
      case SINK_FAILED -> sinkFailures.incrementAndGet();
    }
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

  long undecodable() {
    return undecodable.get();
  }

  long sinkFailures() {
    return sinkFailures.get();
  }
}
