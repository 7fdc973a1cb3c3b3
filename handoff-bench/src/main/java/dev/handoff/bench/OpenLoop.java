package dev.handoff.bench;

import dev.handoff.HandoffException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;

/**
 * Offers operations at a fixed rate for a while, whatever comes back (an open loop: a slow system
 * does not slow the offer down), and sorts the outcomes: accepted (with its latency from call to
 * completion), refused with {@link HandoffException.Overloaded}, or failed otherwise.
 *
 * @param offered operations offered
 * @param accepted operations that completed successfully
 * @param refused operations refused as overloaded
 * @param failed operations that failed otherwise
 * @param offeredNanos how long the offer lasted
 * @param latencies call-to-completion nanoseconds of the accepted operations, in completion order
 */
record OpenLoop(
    long offered,
    long accepted,
    long refused,
    long failed,
    long offeredNanos,
    Samples latencies,
    Throwable firstFailure) {

  static OpenLoop run(double perSecond, double seconds, LongFunction<CompletableFuture<?>> op) {
    int capacity = (int) Math.min(Integer.MAX_VALUE - 8, perSecond * seconds + 16);
    long[] latencies = new long[capacity];
    var accepted = new AtomicLong();
    var refused = new AtomicLong();
    var failed = new AtomicLong();
    var outstanding = new AtomicLong();
    var first = new AtomicReference<Throwable>();
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    long offered = 0;
    while (true) {
      long now = System.nanoTime();
      if (now >= end) {
        break;
      }
      long due = Math.min(capacity, (long) ((now - t0) / 1e9 * perSecond));
      while (offered < due && System.nanoTime() < end) { // stops on time even when behind
        long start = System.nanoTime();
        outstanding.incrementAndGet();
        CompletableFuture<?> f;
        try {
          f = op.apply(offered);
        } catch (RuntimeException e) {
          f = CompletableFuture.failedFuture(e);
        }
        offered++;
        f.whenComplete(
            (r, e) -> {
              if (e == null) {
                long i = accepted.getAndIncrement();
                latencies[(int) i] = System.nanoTime() - start;
              } else if (unwrap(e) instanceof HandoffException.Overloaded) {
                refused.incrementAndGet();
              } else {
                failed.incrementAndGet();
                first.compareAndSet(null, unwrap(e));
              }
              outstanding.decrementAndGet();
            });
      }
      java.util.concurrent.locks.LockSupport.parkNanos(500_000); // pacing, not a wait
    }
    long offeredNanos = System.nanoTime() - t0;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (outstanding.get() > 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            outstanding.get() + " operations did not complete in 3 min");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    int n = (int) accepted.get();
    return new OpenLoop(
        offered,
        n,
        refused.get(),
        failed.get(),
        offeredNanos,
        new Samples(latencies, n),
        first.get());
  }

  /** Accepted operations per second of offer. */
  double acceptedPerSecond() {
    return accepted / (offeredNanos / 1e9);
  }

  double offeredPerSecond() {
    return offered / (offeredNanos / 1e9);
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }
}
