package dev.handoff.spi;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The durable, replicated log of {@link SlotRecord}s that every node reads in full.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #start(Consumer)} begins reading from the beginning of the log and hands every
 *       record to the sink, on a single reader thread, in log order within each partition. The
 *       returned future completes when the reader's position has reached the end offsets read at
 *       start (replay done); it completes exceptionally if the log cannot be read or is
 *       misconfigured.
 *   <li>{@link #append(SlotRecord)} completes only when the record is durably acknowledged
 *       (replicated per the log's durability settings), with its position; otherwise it completes
 *       exceptionally. The record is also delivered to the sink later, like any other record.
 *   <li>{@link #barrier()} completes once every record acknowledged before the call started has
 *       been handed to the sink (read-your-writes across nodes, invariant I4).
 *   <li>Records the log cannot decode are skipped, counted in {@link #skippedRecords()} and logged;
 *       they never stop the reader.
 * </ul>
 *
 * <p>Lifecycle, as for every Handoff component: {@link #start(Consumer)} is idempotent (a later
 * call with the same sink returns the same future; with another sink it throws {@link
 * IllegalStateException}); after {@link #close()} it returns a failed future. {@link #close()} is
 * idempotent and never throws; pending futures complete exceptionally. All methods are thread-safe.
 */
public interface DeltaLog extends AutoCloseable {

  /** Starts reading; see the class documentation. Idempotent for the same sink. */
  CompletableFuture<Void> start(Consumer<LogEntry> sink);

  /**
   * Completes when the reader has stopped for good: normally after {@link #close()}; exceptionally,
   * with the cause, if it stopped by itself (the log can no longer be read, for example its
   * partition layout changed, access was revoked, or the reader ran out of memory). After that no
   * record reaches the sink, and a node built on this log must stop serving. An error inside one
   * record or batch never completes it: such records are skipped and counted.
   */
  CompletableFuture<Void> stopped();

  /** Appends a record; completes when acknowledged. */
  CompletableFuture<LogPosition> append(SlotRecord record);

  /** Completes when every record acknowledged before this call has reached the sink. */
  CompletableFuture<Void> barrier();

  /**
   * The largest application state, in bytes, that {@link #append} accepts; larger ones must be
   * refused before anything is sent.
   */
  int maxStateBytes();

  /**
   * Bytes of appended records this log can hold before they are acknowledged without {@link
   * #append} blocking its caller (a producer's send buffer), or {@link Long#MAX_VALUE} if appends
   * never block. A node bounds the state bytes it has in flight below this by default.
   */
  default long appendBufferBytes() {
    return Long.MAX_VALUE;
  }

  /** Records skipped because they could not be decoded, since start. */
  long skippedRecords();

  /**
   * How far the reader is, for health checks and metrics. {@link ReaderProgress#UNKNOWN} if this
   * log cannot tell, which is the default.
   */
  default ReaderProgress readerProgress() {
    return ReaderProgress.UNKNOWN;
  }

  /**
   * How far a log's reader is.
   *
   * @param replayPercent how much of the log, up to the end offsets at start, the start-up replay
   *     has read: 0 to 100, 100 once replayed; -1 if unknown
   * @param lag records in the log not read yet, summed over the partitions; -1 if unknown
   */
  record ReaderProgress(double replayPercent, long lag) {
    /** Nothing known. */
    public static final ReaderProgress UNKNOWN = new ReaderProgress(-1, -1);
  }

  @Override
  void close();
}
