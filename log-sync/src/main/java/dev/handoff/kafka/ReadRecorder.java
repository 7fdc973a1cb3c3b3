package dev.handoff.kafka;

/**
 * Hears what the reader thread of a {@link KafkaDeltaLog} does with each record it reads: the one
 * place where the reader's counts go, so that a metrics binding replaces or wraps {@link
 * ReadCounters} instead of reaching into the reader. Called on the reader thread only; an
 * implementation must be cheap and must not throw.
 */
interface ReadRecorder {

  /** Why a record did not reach (or was not taken by) the sink. */
  enum SkipReason {
    /** A key, value or writer-schema record the log cannot decode. */
    UNDECODABLE,
    /** The sink threw on the record; this node skipped it. */
    SINK_FAILED
  }

  /**
   * A record was read from the topic: a slot record, a reserved record or an undecodable one.
   *
   * @param bytes its serialized key and value bytes
   */
  void recordRead(int bytes);

  /** A slot record was handed to the sink, which took it without throwing. */
  void recordApplied();

  /** A record was skipped for {@code reason}; it was logged with its partition and offset. */
  void recordSkipped(SkipReason reason);
}
