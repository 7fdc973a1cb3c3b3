package dev.handoff;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A node's view of an {@link InMemoryDeltaLog} that a test can steer: hold the reader's deliveries
 * (a paused or slow reader), hold appends until released (a record stuck in the producer), or write
 * a record but report its send as failed (an ambiguous timeout).
 */
final class ControlledLog extends ForwardingDeltaLog {
  private final List<LogEntry> held = new ArrayList<>();
  private final List<Runnable> heldAppends = new ArrayList<>();
  private Consumer<LogEntry> sink;
  private boolean readerPaused;
  private Predicate<SlotRecord> holdAppend = r -> false;
  private Predicate<SlotRecord> failAfterWrite = r -> false;
  final CompletableFuture<SlotRecord> appendHeld = new CompletableFuture<>();

  ControlledLog(DeltaLog inner) {
    super(inner);
  }

  /** Deliveries stop here until {@link #resumeReader()}. */
  synchronized void pauseReader() {
    readerPaused = true;
  }

  synchronized void resumeReader() {
    readerPaused = false;
    held.forEach(sink);
    held.clear();
  }

  /** Appends of matching records wait until {@link #releaseAppends()}. */
  synchronized void holdAppends(Predicate<SlotRecord> which) {
    holdAppend = which;
  }

  void releaseAppends() {
    List<Runnable> go;
    synchronized (this) {
      holdAppend = r -> false;
      go = new ArrayList<>(heldAppends);
      heldAppends.clear();
    }
    go.forEach(Runnable::run);
  }

  /** Matching records are written, but their append reports a timeout. */
  synchronized void failAfterWriting(Predicate<SlotRecord> which) {
    failAfterWrite = which;
  }

  @Override
  public CompletableFuture<Void> start(Consumer<LogEntry> sink) {
    synchronized (this) {
      this.sink = sink;
    }
    return inner.start(
        e -> {
          synchronized (this) {
            if (readerPaused) {
              held.add(e);
              return;
            }
          }
          sink.accept(e);
        });
  }

  @Override
  public CompletableFuture<LogPosition> append(SlotRecord record) {
    synchronized (this) {
      if (failAfterWrite.test(record)) {
        failAfterWrite = r -> false;
        inner.append(record).join();
        return CompletableFuture.failedFuture(new TimeoutException("delivery timed out (test)"));
      }
      if (holdAppend.test(record)) {
        var out = new CompletableFuture<LogPosition>();
        heldAppends.add(
            () ->
                inner
                    .append(record)
                    .whenComplete(
                        (p, e) -> {
                          if (e != null) {
                            out.completeExceptionally(e);
                          } else {
                            out.complete(p);
                          }
                        }));
        appendHeld.complete(record);
        return out;
      }
    }
    return inner.append(record);
  }
}
