package dev.handoff.zk;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How long to wait before registering again after a registration was lost (its session expired, or
 * its znode was deleted), so that a node whose session keeps expiring (a starved or thrashing JVM)
 * rejoins at a bounded rate instead of in a storm: each rejoin is a new incarnation whose sessions
 * the cluster moves around.
 *
 * <p>The first loss after a stable registration re-registers at once. Each further loss of a
 * registration that lived less than {@link #STABLE} waits twice as long as the one before: {@link
 * #FIRST_DELAY}, then 2 s, 4 s, … up to {@link #MAX_DELAY}. A registration that lives {@link
 * #STABLE} resets the count. Confined to the membership loop thread.
 */
final class RegistrationBackoff {

  static final Duration FIRST_DELAY = Duration.ofSeconds(1);
  static final Duration MAX_DELAY = Duration.ofSeconds(30);
  static final Duration STABLE = Duration.ofSeconds(60);

  private final LongSupplier nanoTime;
  private boolean registered;
  private long registeredAt;
  private int quickLosses; // losses in a row of registrations that lived less than STABLE

  /**
   * @param nanoTime the monotonic clock, {@link System#nanoTime()} outside tests
   */
  RegistrationBackoff(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** A registration succeeded now. */
  void registered() {
    registered = true;
    registeredAt = nanoTime.getAsLong();
  }

  /**
   * The registration made at the last {@link #registered()} is lost now: returns how long to wait
   * before registering again (zero: at once).
   */
  Duration lost() {
    if (!registered) {
      return Duration.ZERO;
    }
    registered = false;
    long lived = nanoTime.getAsLong() - registeredAt;
    if (lived >= STABLE.toNanos()) {
      quickLosses = 0;
    }
    quickLosses++;
    if (quickLosses == 1) {
      return Duration.ZERO;
    }
    long millis = FIRST_DELAY.toMillis() << Math.min(quickLosses - 2, 20);
    return Duration.ofMillis(Math.min(millis, MAX_DELAY.toMillis()));
  }

  /** Losses in a row, each of a registration that lived less than {@link #STABLE}. */
  int quickLosses() {
    return quickLosses;
  }
}
