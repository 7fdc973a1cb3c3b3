package dev.handoff.kafka;

import dev.handoff.kafka.KafkaDeltaLog.SkipReason;

/**
 * Hears what the reader thread of a {@link KafkaDeltaLog} does with each record it reads: the one
 * place where the reader's counts go, so that a metrics binding replaces or wraps {@link
 * ReadCounters} instead of reaching into the reader. Called on the reader thread only; an
 * implementation must be cheap and must not throw.
 */
interface ReadRecorder {

  /**
   * A record was read from the topic: a slot record, a reserved record or an undecodable one. A
   * record read again after a rewind (see {@link SkipReason#UNKNOWN_SCHEMA}) is counted once.
   *
   * @param bytes its serialized key and value bytes
   */
  void recordRead(int bytes);

  /** A slot record was handed to the sink, which took it without throwing. */
  void recordApplied();

  /**
   * A record (or, for {@link SkipReason#CORRUPT_BATCH}, a batch) was skipped for {@code reason}; it
   * was logged with its partition and offset.
   */
  void recordSkipped(SkipReason reason);
}
