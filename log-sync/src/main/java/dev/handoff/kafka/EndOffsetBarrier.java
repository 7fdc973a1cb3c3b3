package dev.handoff.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * The "read to end" rule of a {@link KafkaDeltaLog}, in one place: the end offsets (high
 * watermarks, admin {@code ListOffsets} with {@code latest}) are read after a barrier is called,
 * and the barrier completes once the reader's position in every partition has reached them. The
 * reader's replay uses the same rule ({@link #reached}) against the end offsets read at start.
 *
 * <p>The reader is never woken or blocked: it publishes its positions through {@link #advance}
 * after handing each batch to the sink. A barrier whose end offsets are known is queued and checked
 * against the positions both by the caller (right after queueing it) and by the reader (after each
 * batch), so one of them always sees the other.
 *
 * <p>Thread-safe. Owns the admin client once {@link #attach}ed and closes it in {@link #close}.
 */
final class EndOffsetBarrier {

  /** A barrier whose end offsets are known: it completes when the positions reach them. */
  private record Waiting(long[] endOffsets, CompletableFuture<Void> f) {}

  private final String topic;
  private final Duration requestTimeout;
  private final CallbackThread callbacks;
  private final ConcurrentLinkedQueue<Waiting> awaitingPosition = new ConcurrentLinkedQueue<>();
  private final Object lookupLock = new Object();
  // Guarded by lookupLock.
  private List<CompletableFuture<Void>> awaitingLookup = new ArrayList<>();
  private boolean lookupInFlight;

  private volatile Admin admin;
  private volatile int partitions;

  /** Positions after the last records handed to the sink, by partition; replaced, never mutated. */
  private volatile long[] positions;

  /** Set once: the error every later and pending barrier fails with. */
  private volatile Throwable failure;

  EndOffsetBarrier(String topic, Duration requestTimeout, CallbackThread callbacks) {
    this.topic = topic;
    this.requestTimeout = requestTimeout;
    this.callbacks = callbacks;
  }

  /** True once every position has reached the end offset of its partition. */
  static boolean reached(long[] positions, long[] endOffsets) {
    if (positions == null) {
      return false;
    }
    for (int p = 0; p < endOffsets.length; p++) {
      if (p < positions.length && positions[p] < endOffsets[p]) {
        return false;
      }
    }
    return true;
  }

  /** The topic is set up: end offsets can be read from now on, through {@code admin}. */
  void attach(Admin admin, int partitions) {
    this.partitions = partitions;
    this.admin = admin;
  }

  /**
   * A barrier: completes once every record below the end offsets read after this call has been
   * handed to the sink. Call only after {@link #attach}.
   */
  CompletableFuture<Void> await() {
    // Group commit: barriers that arrive while an end-offset lookup is in flight share the next
    // lookup, which is sent after all of them were called, so each still reads offsets fetched
    // after it started. Under a burst of pickups this is one admin round trip, not one per call.
    var f = new CompletableFuture<Void>();
    boolean issue;
    synchronized (lookupLock) {
      awaitingLookup.add(f);
      issue = !lookupInFlight;
      lookupInFlight = true;
    }
    if (issue) {
      lookUpEndOffsets();
    }
    return f;
  }

  /** Called by the reader after handing a batch to the sink: completes the barriers it reached. */
  void advance(long[] now) {
    positions = now;
    for (Iterator<Waiting> it = awaitingPosition.iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      if (reached(now, w.endOffsets()) && awaitingPosition.remove(w)) {
        callbacks.complete(w.f(), null);
      }
    }
  }

  /**
   * Fails every pending barrier, and every later one, with {@code error}. The first error stays.
   */
  void fail(Throwable error) {
    if (failure == null) {
      failure = error;
    }
    List<CompletableFuture<Void>> unlooked;
    synchronized (lookupLock) {
      unlooked = awaitingLookup;
      awaitingLookup = new ArrayList<>();
    }
    unlooked.forEach(f -> f.completeExceptionally(failure));
    failWaiting();
  }

  /** Fails what is pending with {@code closed}, then closes the admin client within the timeout. */
  void close(Throwable closed, Duration timeout) {
    fail(closed);
    Admin a = admin;
    if (a != null) {
      a.close(timeout);
    }
  }

  private void lookUpEndOffsets() {
    List<CompletableFuture<Void>> batch;
    synchronized (lookupLock) {
      batch = awaitingLookup;
      awaitingLookup = new ArrayList<>();
    }
    Throwable failed = failure;
    if (failed != null) {
      batch.forEach(f -> f.completeExceptionally(failed));
      nextLookup();
      return;
    }
    int count = partitions;
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < count; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    try {
      admin
          .listOffsets(latest, new ListOffsetsOptions().timeoutMs((int) requestTimeout.toMillis()))
          .all()
          .whenComplete(
              (offsets, error) -> {
                if (error != null) {
                  var e = lookupFailed(error);
                  batch.forEach(f -> callbacks.fail(f, e));
                } else {
                  long[] ends = new long[count];
                  offsets.forEach((tp, info) -> ends[tp.partition()] = info.offset());
                  batch.forEach(f -> awaitPosition(ends, f));
                }
                nextLookup();
              });
    } catch (KafkaException | IllegalStateException e) {
      var error = lookupFailed(e);
      batch.forEach(f -> f.completeExceptionally(error));
      nextLookup();
    }
  }

  private void nextLookup() {
    boolean more;
    synchronized (lookupLock) {
      more = !awaitingLookup.isEmpty();
      lookupInFlight = more;
    }
    if (more) {
      lookUpEndOffsets();
    }
  }

  /**
   * Completes {@code f} once the reader has handed to the sink every record below {@code ends}. The
   * caller queues the barrier, then checks the published positions; the reader publishes positions,
   * then checks the queue; so one of them always sees the other. {@link #fail} works the same way
   * against the queue.
   */
  private void awaitPosition(long[] ends, CompletableFuture<Void> f) {
    var w = new Waiting(ends, f);
    awaitingPosition.add(w);
    if (reached(positions, ends) && awaitingPosition.remove(w)) {
      callbacks.complete(f, null);
    }
    if (failure != null) {
      failWaiting();
    }
  }

  private void failWaiting() {
    Waiting w;
    while ((w = awaitingPosition.poll()) != null) {
      w.f().completeExceptionally(failure);
    }
  }

  private KafkaDeltaLogException lookupFailed(Throwable e) {
    return new KafkaDeltaLogException(
        "Barrier on topic '" + topic + "' could not read the end offsets: " + e, e);
  }
}
