package dev.handoff.kafka;

import java.util.Arrays;

/**
 * Per partition, a record waiting for a writer schema this node does not know yet, and how far the
 * partition has been searched for schemas.
 *
 * <p>Why: every node start republishes its writer schemas, and compaction keeps only the newest
 * copy of each, which then sits after older data written with it. So a record of a later wire
 * version can come before its schema in a compacted partition. Holding such records in memory is
 * not bounded (after a full upgrade nearly all of a partition can precede the newest copy); instead
 * the reader stops handing the partition to the sink at that record, reads ahead in it looking only
 * at schema records, and when it has learned the schema (or reached the end offset read when the
 * search began) seeks back to the record and goes on. The sink still sees every partition once, in
 * log order. A record whose schema was searched for and not found is skipped as {@link
 * KafkaDeltaLog.SkipReason#UNKNOWN_SCHEMA}. Each search starts where the last one ended, so a
 * partition is searched at most once in all.
 *
 * <p>Used by the reader thread only.
 */
final class SchemaRewinds {

  private final long[] rewindTo;
  private final long[] wanted;
  private final long[] limit;
  private final long[] searchedUpTo;

  SchemaRewinds(int partitions) {
    rewindTo = new long[partitions];
    wanted = new long[partitions];
    limit = new long[partitions];
    searchedUpTo = new long[partitions];
    Arrays.fill(rewindTo, -1);
  }

  /** True while partition {@code p} is searched for a schema: nothing of it reaches the sink. */
  boolean searching(int p) {
    return rewindTo[p] >= 0;
  }

  /** The offset partition {@code p} goes back to when the search ends: its record to retry. */
  long rewindTo(int p) {
    return rewindTo[p];
  }

  long wanted(int p) {
    return wanted[p];
  }

  long limit(int p) {
    return limit[p];
  }

  /**
   * Where a search for the record at {@code offset} would start reading, or -1 if partition {@code
   * p} has been searched up to {@code endOffset} already (then the schema is not there).
   */
  long searchStart(int p, long offset, long endOffset) {
    long start = Math.max(offset + 1, searchedUpTo[p]);
    return start >= endOffset ? -1 : start;
  }

  /** Starts a search: the record at {@code offset} needs schema {@code fingerprint}. */
  void begin(int p, long offset, long fingerprint, long endOffset) {
    rewindTo[p] = offset;
    wanted[p] = fingerprint;
    limit[p] = endOffset;
  }

  /** The search of partition {@code p} read everything below {@code upTo}; returns its rewind. */
  long end(int p, long upTo) {
    searchedUpTo[p] = Math.max(searchedUpTo[p], Math.min(upTo, limit[p]));
    long back = rewindTo[p];
    rewindTo[p] = -1;
    return back;
  }

  /** Partition {@code p} has been searched up to {@code endOffset}: records below are done. */
  void searchedTo(int p, long endOffset) {
    searchedUpTo[p] = Math.max(searchedUpTo[p], endOffset);
  }
}
