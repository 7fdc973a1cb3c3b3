package dev.handoff;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A drain in progress: this node moving every session it owns to other members. Counters are live
 * snapshots; {@link #done()} completes when every session was moved, kept or failed, or the budget
 * was spent.
 */
public final class Drain {

  /**
   * How a drain ended.
   *
   * @param moved sessions another member took over
   * @param kept sessions this node still owns because no receiver took them ({@link
   *     SessionMover#kept} was called for each one it had stopped)
   * @param failed sessions whose transfer failed (for example this node was fenced); not owned here
   * @param remaining sessions not tried before the budget was spent (still owned here, not stopped)
   * @param took how long the drain ran
   */
  public record Result(int moved, int kept, int failed, int remaining, Duration took) {}

  private final int total;
  final AtomicInteger moved = new AtomicInteger();
  final AtomicInteger kept = new AtomicInteger();
  final AtomicInteger failed = new AtomicInteger();
  final CompletableFuture<Result> done = new CompletableFuture<>();

  Drain(int total) {
    this.total = total;
  }

  /** Sessions this node owned when the drain started. */
  public int total() {
    return total;
  }

  /** Sessions moved so far. */
  public int moved() {
    return moved.get();
  }

  /** Sessions kept so far (no receiver took them). */
  public int kept() {
    return kept.get();
  }

  /** Sessions whose transfer failed so far. */
  public int failed() {
    return failed.get();
  }

  /** Sessions not settled yet. */
  public int remaining() {
    return total - moved.get() - kept.get() - failed.get();
  }

  /** Completes when the drain is over; never exceptionally. */
  public CompletableFuture<Result> done() {
    return done;
  }

  @Override
  public String toString() {
    return "Drain[moved="
        + moved()
        + " kept="
        + kept()
        + " failed="
        + failed()
        + " remaining="
        + remaining()
        + "/"
        + total
        + "]";
  }
}
