package dev.handoff.zk;

import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.curator.RetryPolicy;
import org.apache.curator.RetrySleeper;

/**
 * When to try registering again after an attempt failed, as the configured Curator {@link
 * RetryPolicy} decides: the same policy that Curator applies to every single operation also counts
 * and spaces whole registration attempts. The policy is asked without sleeping, since this runs on
 * the loop thread; the sleep it asks for becomes the delay of the next attempt (this is how
 * Curator's own background operations wait between retries).
 */
final class RegistrationRetries {

  private final Supplier<RetryPolicy> policy;
  private final LongSupplier nanoTime;
  private int retries;
  private long firstAttemptNanos;

  /**
   * @param policy the policy in force, asked anew for each retry
   * @param nanoTime the clock of {@link System#nanoTime()}, injectable for tests
   */
  RegistrationRetries(Supplier<RetryPolicy> policy, LongSupplier nanoTime) {
    this.policy = policy;
    this.nanoTime = nanoTime;
  }

  /** A first attempt is made now: count and elapsed time start again. */
  void firstAttempt() {
    retries = 0;
    firstAttemptNanos = nanoTime.getAsLong();
  }

  /**
   * After a failed attempt: the delay in milliseconds before the next one, or empty if the policy
   * allows no more.
   */
  OptionalLong afterFailure() {
    var sleep = new RecordedSleep();
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - firstAttemptNanos);
    if (!policy.get().allowRetry(retries, elapsedMillis, sleep)) {
      return OptionalLong.empty();
    }
    retries++;
    return OptionalLong.of(sleep.millis);
  }

  /** Attempts made in the current sequence so far, the first one included. */
  int attempts() {
    return retries + 1;
  }

  /** A sleeper that records how long the policy wants to wait instead of blocking. */
  private static final class RecordedSleep implements RetrySleeper {
    long millis;

    @Override
    public void sleepFor(long time, TimeUnit unit) {
      millis = Math.max(0, unit.toMillis(time));
    }
  }
}
