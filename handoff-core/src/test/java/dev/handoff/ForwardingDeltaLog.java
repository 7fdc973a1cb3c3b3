package dev.handoff;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** A log that hands every call to another one; tests override what they steer. */
abstract class ForwardingDeltaLog implements DeltaLog {
  final DeltaLog inner;

  ForwardingDeltaLog(DeltaLog inner) {
    this.inner = inner;
  }

  @Override
  public CompletableFuture<Void> start(Consumer<LogEntry> sink) {
    return inner.start(sink);
  }

  @Override
  public CompletableFuture<Void> stopped() {
    return inner.stopped();
  }

  @Override
  public CompletableFuture<LogPosition> append(SlotRecord record) {
    return inner.append(record);
  }

  @Override
  public CompletableFuture<Void> barrier() {
    return inner.barrier();
  }

  @Override
  public int maxStateBytes() {
    return inner.maxStateBytes();
  }

  @Override
  public long appendBufferBytes() {
    return inner.appendBufferBytes();
  }

  @Override
  public long skippedRecords() {
    return inner.skippedRecords();
  }

  @Override
  public ReaderProgress readerProgress() {
    return inner.readerProgress();
  }

  @Override
  public void close() {
    inner.close();
  }
}
