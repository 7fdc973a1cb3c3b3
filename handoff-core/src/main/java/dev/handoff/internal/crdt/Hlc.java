package dev.handoff.internal.crdt;

import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock packed into a {@code long}: the high 48 bits are wall-clock milliseconds,
 * the low 16 bits a logical counter. Timestamps it hands out only grow, even if the wall clock
 * steps back, and every timestamp it hands out after {@link #update(long) seeing} a remote one is
 * larger than that remote one. Packed values compare with {@code <} as HLC timestamps.
 *
 * <p>Not thread-safe: one clock belongs to one {@link Replica} and its owner thread.
 */
public final class Hlc {

  static final int LOGICAL_BITS = 16;
  private static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;

  private final LongSupplier wallClockMillis;
  private long last;

  /**
   * @param wallClockMillis the physical clock, in milliseconds since the epoch (tests inject a fake
   *     one)
   */
  public Hlc(LongSupplier wallClockMillis) {
    this.wallClockMillis = java.util.Objects.requireNonNull(wallClockMillis, "wallClockMillis");
  }

  /** A clock driven by {@link System#currentTimeMillis()}. */
  public static Hlc system() {
    return new Hlc(System::currentTimeMillis);
  }

  /** A timestamp for a local event, larger than every timestamp seen or handed out before. */
  public long now() {
    last = Math.max(last + 1, wallClockMillis.getAsLong() << LOGICAL_BITS);
    return last;
  }

  /** Merges a timestamp received from another node; returns the new local timestamp. */
  public long update(long remote) {
    last = Math.max(Math.max(last, remote) + 1, wallClockMillis.getAsLong() << LOGICAL_BITS);
    return last;
  }

  /** The physical clock's reading now, in milliseconds since the epoch. */
  public long wallMillis() {
    return wallClockMillis.getAsLong();
  }

  /** The last timestamp handed out (0 before the first). */
  public long last() {
    return last;
  }

  /** The wall-clock milliseconds of a packed timestamp. */
  public static long physicalMillis(long hlc) {
    return hlc >>> LOGICAL_BITS;
  }

  /** The logical counter of a packed timestamp. */
  public static int logical(long hlc) {
    return (int) (hlc & LOGICAL_MASK);
  }

  /** Packs wall-clock milliseconds and a logical counter. */
  public static long of(long physicalMillis, int logical) {
    if (physicalMillis < 0 || logical < 0 || logical > LOGICAL_MASK) {
      throw new IllegalArgumentException(
          "hlc out of range: physicalMillis=" + physicalMillis + " logical=" + logical);
    }
    return (physicalMillis << LOGICAL_BITS) | logical;
  }

  /** A readable form, e.g. {@code 2026-11-26T10:00:00Z+3}. */
  public static String format(long hlc) {
    return Instant.ofEpochMilli(physicalMillis(hlc)) + "+" + logical(hlc);
  }
}
