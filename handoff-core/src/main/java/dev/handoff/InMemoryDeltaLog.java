package dev.handoff;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link DeltaLog} kept in memory, for unit tests of code built on Handoff: one instance is the
 * shared "topic"; every {@link #open()} gives one node's view of it. Records are partitioned by
 * session key, get per-partition offsets, and are delivered to every started view on that view's
 * own reader thread, in offset order per partition. {@link #compact} does what Kafka's log cleaner
 * does to a compacted topic, so tests can check that state survives compaction.
 *
 * <p>Thread-safe. Appends are acknowledged at once (there is nothing to replicate).
 */
public final class InMemoryDeltaLog {

  private static final Logger log = LoggerFactory.getLogger(InMemoryDeltaLog.class);
  private static final AtomicInteger READER_IDS = new AtomicInteger();

  /** Kafka's default {@code max.message.bytes}, less room for the record's key and framing. */
  public static final int DEFAULT_MAX_STATE_BYTES = 1_000_000;

  private final int maxStateBytes;
  private final List<List<LogEntry>> partitions = new ArrayList<>();
  private final long[] nextOffset;

  /** A log with {@code partitions} partitions and {@link #DEFAULT_MAX_STATE_BYTES}. */
  public InMemoryDeltaLog(int partitions) {
    this(partitions, DEFAULT_MAX_STATE_BYTES);
  }

  public InMemoryDeltaLog(int partitions, int maxStateBytes) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
    if (maxStateBytes < 1) {
      throw new IllegalArgumentException("maxStateBytes must be >= 1, was " + maxStateBytes);
    }
    this.maxStateBytes = maxStateBytes;
    for (int i = 0; i < partitions; i++) {
      this.partitions.add(new ArrayList<>());
    }
    this.nextOffset = new long[partitions];
  }

  /** The partition of a session: every record of a session goes there. */
  public static int partitionFor(String session, int partitions) {
    return Math.floorMod(session.hashCode(), partitions);
  }

  public int partitions() {
    return partitions.size();
  }

  /**
   * Stops {@code view}'s reader as a fatal error would (for tests of what a node does then): its
   * {@link DeltaLog#stopped()} fails with {@code cause}. {@code view} must come from {@link #open}.
   */
  static void failReader(DeltaLog view, Throwable cause) {
    ((View) view).failReader(cause);
  }

  /** A new node's view of this log. */
  public DeltaLog open() {
    return new View();
  }

  /** The records currently in the log, partition by partition, in offset order. A copy. */
  public synchronized List<LogEntry> entries() {
    var all = new ArrayList<LogEntry>();
    partitions.forEach(all::addAll);
    return all;
  }

  /** The offset the next record of {@code partition} will get. */
  public synchronized long endOffset(int partition) {
    return nextOffset[partition];
  }

  /**
   * Compacts every partition as Kafka's cleaner does, keyed by ({@code session}, {@code writer}):
   * below {@code cleanBelow} (the cleaned part; the rest is the "active segment") a record is
   * dropped when a later record of its key exists below {@code cleanBelow}; a tombstone below
   * {@code dropTombstonesBelow} that is the last of its key is dropped too (Kafka's {@code
   * delete.retention.ms}). Offsets of kept records never change.
   *
   * @throws IllegalArgumentException if {@code dropTombstonesBelow > cleanBelow}
   */
  public void compact(long cleanBelow, long dropTombstonesBelow) {
    compact(cleanBelow, dropTombstonesBelow, r -> List.of(r.session(), r.writer()));
  }

  /** {@link #compact(long, long)} with another record key (tests show why the key matters). */
  synchronized void compact(
      long cleanBelow, long dropTombstonesBelow, Function<SlotRecord, Object> recordKey) {
    if (dropTombstonesBelow > cleanBelow) {
      throw new IllegalArgumentException(
          "dropTombstonesBelow ("
              + dropTombstonesBelow
              + ") must not exceed cleanBelow ("
              + cleanBelow
              + ")");
    }
    for (int p = 0; p < partitions.size(); p++) {
      List<LogEntry> entries = partitions.get(p);
      var lastOffsetOfKey = new HashMap<Object, Long>();
      for (LogEntry e : entries) {
        if (e.offset() < cleanBelow) {
          lastOffsetOfKey.put(recordKey.apply(e.record()), e.offset());
        }
      }
      var kept = new ArrayList<LogEntry>(entries.size());
      for (LogEntry e : entries) {
        boolean cleaned = e.offset() < cleanBelow;
        boolean superseded =
            cleaned && lastOffsetOfKey.get(recordKey.apply(e.record())) != e.offset();
        boolean expiredTombstone = e.record().isTombstone() && e.offset() < dropTombstonesBelow;
        if (!superseded && !expiredTombstone) {
          kept.add(e);
        }
      }
      partitions.set(p, kept);
    }
  }

  private synchronized LogPosition add(SlotRecord record) {
    int p = partitionFor(record.session(), partitions.size());
    long offset = nextOffset[p]++;
    partitions.get(p).add(new LogEntry(record, p, offset));
    notifyAll();
    return new LogPosition(p, offset);
  }

  private synchronized long[] endOffsets() {
    return nextOffset.clone();
  }

  /** Entries of {@code partition} at or after {@code from}; caller holds the lock. */
  private List<LogEntry> from(int partition, long from) {
    List<LogEntry> entries = partitions.get(partition);
    int lo = 0;
    int hi = entries.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (entries.get(mid).offset() < from) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return new ArrayList<>(entries.subList(lo, entries.size()));
  }

  private static boolean reached(long[] position, long[] target) {
    for (int i = 0; i < target.length; i++) {
      if (position[i] < target[i]) {
        return false;
      }
    }
    return true;
  }

  private record Barrier(long[] target, CompletableFuture<Void> done) {}

  /** One node's view: its own reader thread and position. */
  private final class View implements DeltaLog {
    // Guarded by the enclosing log's monitor.
    private final long[] position = new long[partitions.size()];
    private final List<Barrier> barriers = new ArrayList<>();
    private Consumer<LogEntry> startedWith;
    private CompletableFuture<Void> started;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private boolean closed;
    private Thread reader;

    @Override
    public CompletableFuture<Void> start(Consumer<LogEntry> sink) {
      Objects.requireNonNull(sink, "sink");
      var ready = new CompletableFuture<Void>();
      synchronized (InMemoryDeltaLog.this) {
        if (started != null) {
          if (sink != startedWith) {
            throw new IllegalStateException("log view already started with another sink");
          }
          return started;
        }
        if (closed) {
          return CompletableFuture.failedFuture(new IllegalStateException("log view is closed"));
        }
        started = ready;
        startedWith = sink;
        barriers.add(new Barrier(nextOffset.clone(), ready));
        reader =
            new Thread(
                () -> readLoop(sink),
                "handoff-inmemory-log-reader-" + READER_IDS.incrementAndGet());
        reader.setDaemon(true);
        reader.start();
      }
      return ready;
    }

    private void readLoop(Consumer<LogEntry> sink) {
      while (true) {
        var batch = new ArrayList<LogEntry>();
        long[] end;
        synchronized (InMemoryDeltaLog.this) {
          while (!closed && reached(position, nextOffset) && !hasDueBarrier()) {
            try {
              InMemoryDeltaLog.this.wait();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          if (closed) {
            return;
          }
          end = nextOffset.clone();
          for (int p = 0; p < position.length; p++) {
            batch.addAll(from(p, position[p]));
          }
        }
        for (LogEntry e : batch) {
          try {
            sink.accept(e);
          } catch (RuntimeException ex) {
            log.warn(
                "sink failed on record at partition {} offset {}; continuing",
                e.partition(),
                e.offset(),
                ex);
          }
        }
        var due = new ArrayList<CompletableFuture<Void>>();
        synchronized (InMemoryDeltaLog.this) {
          for (int p = 0; p < position.length; p++) {
            position[p] = Math.max(position[p], end[p]);
          }
          barriers.removeIf(
              b -> {
                if (reached(position, b.target())) {
                  due.add(b.done());
                  return true;
                }
                return false;
              });
        }
        due.forEach(f -> f.complete(null));
      }
    }

    private boolean hasDueBarrier() {
      for (Barrier b : barriers) {
        if (reached(position, b.target())) {
          return true;
        }
      }
      return false;
    }

    @Override
    public CompletableFuture<Void> stopped() {
      return stopped;
    }

    /** Stops the reader as a fatal error would: {@link #stopped()} fails with {@code cause}. */
    void failReader(Throwable cause) {
      stopped.completeExceptionally(cause);
      close();
    }

    @Override
    public CompletableFuture<LogPosition> append(SlotRecord record) {
      Objects.requireNonNull(record, "record");
      if (record.state() != null
          && record.state().value() != null
          && record.state().value().length > maxStateBytes) {
        return CompletableFuture.failedFuture(
            new IllegalArgumentException(
                "state of session '"
                    + record.session()
                    + "' is "
                    + record.state().value().length
                    + " bytes; the log accepts at most "
                    + maxStateBytes));
      }
      synchronized (InMemoryDeltaLog.this) {
        if (closed) {
          return CompletableFuture.failedFuture(new IllegalStateException("log view is closed"));
        }
      }
      return CompletableFuture.completedFuture(add(record));
    }

    @Override
    public CompletableFuture<Void> barrier() {
      var done = new CompletableFuture<Void>();
      synchronized (InMemoryDeltaLog.this) {
        if (closed || started == null) {
          return CompletableFuture.failedFuture(
              new IllegalStateException(closed ? "log view is closed" : "log view not started"));
        }
        barriers.add(new Barrier(endOffsets(), done));
        InMemoryDeltaLog.this.notifyAll();
      }
      return done;
    }

    @Override
    public int maxStateBytes() {
      return maxStateBytes;
    }

    @Override
    public long skippedRecords() {
      return 0; // records are objects here: nothing can fail to decode
    }

    @Override
    public void close() {
      List<Barrier> pending;
      Thread r;
      synchronized (InMemoryDeltaLog.this) {
        if (closed) {
          return;
        }
        closed = true;
        pending = new ArrayList<>(barriers);
        barriers.clear();
        r = reader;
        InMemoryDeltaLog.this.notifyAll();
      }
      pending.forEach(b -> b.done().completeExceptionally(new IllegalStateException("closed")));
      stopped.complete(null);
      if (r != null && r != Thread.currentThread()) {
        try {
          r.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public String toString() {
      return "InMemoryDeltaLog.View" + Arrays.toString(position);
    }
  }
}
