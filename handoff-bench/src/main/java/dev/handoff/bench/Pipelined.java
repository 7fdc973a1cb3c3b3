package dev.handoff.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Runs {@code count} asynchronous operations from one thread with at most {@code bound} of them
 * unacknowledged, and records each one's latency from call to completion.
 *
 * @param latencies nanoseconds from call to completion, by operation index
 * @param elapsedNanos from the first call to the last completion
 * @param failures operations that completed exceptionally
 */
record Pipelined(long[] latencies, long elapsedNanos, long failures, Throwable firstFailure) {

  static Pipelined run(int count, int bound, IntFunction<CompletableFuture<?>> op) {
    var permits = new Semaphore(bound);
    long[] latencies = new long[count];
    var failures = new AtomicLong();
    var first = new AtomicReference<Throwable>();
    long t0 = System.nanoTime();
    try {
      for (int i = 0; i < count; i++) {
        permits.acquire();
        int index = i;
        long start = System.nanoTime();
        CompletableFuture<?> f;
        try {
          f = op.apply(i);
        } catch (RuntimeException e) {
          f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete(
            (r, e) -> {
              latencies[index] = System.nanoTime() - start;
              if (e != null) {
                failures.incrementAndGet();
                first.compareAndSet(null, e);
              }
              permits.release();
            });
      }
      if (!permits.tryAcquire(bound, 5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("operations did not complete within 5 minutes");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return new Pipelined(latencies, System.nanoTime() - t0, failures.get(), first.get());
  }

  double perSecond() {
    return latencies.length / (elapsedNanos / 1e9);
  }

  Samples samples() {
    return new Samples(latencies, latencies.length);
  }

  Pipelined requireNoFailures(String what) {
    if (failures > 0) {
      throw new IllegalStateException(
          what + ": " + failures + " of " + latencies.length + " operations failed", firstFailure);
    }
    return this;
  }
}
