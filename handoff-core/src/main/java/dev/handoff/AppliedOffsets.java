package dev.handoff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * How far this node has applied each partition of the log, and who waits for an offset to be
 * applied (a claim waiting to be decided, a write waiting for its read-back). Owner thread only.
 */
final class AppliedOffsets {

  private final Map<Integer, Long> applied = new HashMap<>();
  private final Map<Integer, TreeMap<Long, List<CompletableFuture<Void>>>> waiters =
      new HashMap<>();

  /** Records that {@code offset} of {@code partition} was applied; releases its waiters. */
  void advance(int partition, long offset) {
    applied.merge(partition, offset, Math::max);
    TreeMap<Long, List<CompletableFuture<Void>>> w = waiters.get(partition);
    if (w != null) {
      var ready = w.headMap(offset, true);
      var release = new ArrayList<CompletableFuture<Void>>();
      ready.values().forEach(release::addAll);
      ready.clear();
      release.forEach(f -> f.complete(null));
    }
  }

  /** Completes once {@code offset} of {@code partition} has been applied (at once if it was). */
  CompletableFuture<Void> await(int partition, long offset) {
    Long done = applied.get(partition);
    if (done != null && done >= offset) {
      return CompletableFuture.completedFuture(null);
    }
    var f = new CompletableFuture<Void>();
    waiters
        .computeIfAbsent(partition, p -> new TreeMap<>())
        .computeIfAbsent(offset, o -> new ArrayList<>())
        .add(f);
    return f;
  }

  /** Calls {@code action} with every partition's highest applied offset. */
  void forEach(BiConsumer<Integer, Long> action) {
    applied.forEach(action);
  }

  /** Fails every waiter with {@code error} (the records will never be applied). */
  void failAll(Throwable error) {
    waiters
        .values()
        .forEach(w -> w.values().forEach(l -> l.forEach(f -> f.completeExceptionally(error))));
    waiters.clear();
  }
}
