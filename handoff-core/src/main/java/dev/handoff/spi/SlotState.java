package dev.handoff.spi;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A writer's state for one session, as carried by a {@link SlotRecord}. Self-contained: a replica
 * can decide ownership and the current value from the records that compaction keeps.
 *
 * @param epoch the ownership epoch this write is made under (claims raise it by one)
 * @param claimOffset the log offset of the record in which {@code writer} claimed {@code epoch}, in
 *     the session's partition; {@link #SELF} when this record is itself that claim
 * @param seq the writer's counter for this write; with the writer id it forms the write's dot
 * @param hlc hybrid logical clock timestamp of the write (see {@code
 *     dev.handoff.internal.crdt.Hlc})
 * @param value the application state bytes as produced by the {@link StateCodec}; {@code null} when
 *     {@code ended}
 * @param ended true when the owner ended the session: the key reads as absent, and older epochs
 *     stay fenced until the slot is tombstoned
 * @param handoverTo the writer id this owner hands the session to (its last write before the
 *     receiver's claim), or {@code null}; set only on a live, non-claim record
 */
public record SlotState(
    long epoch,
    long claimOffset,
    long seq,
    long hlc,
    byte[] value,
    boolean ended,
    String handoverTo) {

  /** {@link #claimOffset} value meaning "the claim is this very record". */
  public static final long SELF = -1L;

  public SlotState {
    if (epoch < 1) {
      throw new IllegalArgumentException("epoch must be >= 1, was " + epoch);
    }
    if (claimOffset < SELF) {
      throw new IllegalArgumentException("claimOffset must be >= -1, was " + claimOffset);
    }
    if (ended != (value == null)) {
      throw new IllegalArgumentException(
          ended ? "an ended slot carries no value" : "a live slot needs a value");
    }
    if (handoverTo != null && (ended || claimOffset == SELF || handoverTo.isEmpty())) {
      throw new IllegalArgumentException(
          "only a live, non-claim record can hand a session over, to a non-empty writer id");
    }
  }

  /** This state without a handover receiver. */
  public SlotState withoutHandover() {
    return new SlotState(epoch, claimOffset, seq, hlc, value, ended, null);
  }

  /** A record that hands nothing over. */
  public SlotState(long epoch, long claimOffset, long seq, long hlc, byte[] value, boolean ended) {
    this(epoch, claimOffset, seq, hlc, value, ended, null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SlotState s
        && epoch == s.epoch
        && claimOffset == s.claimOffset
        && seq == s.seq
        && hlc == s.hlc
        && ended == s.ended
        && java.util.Objects.equals(handoverTo, s.handoverTo)
        && Arrays.equals(value, s.value);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(epoch) * 31 + Long.hashCode(seq) * 17 + Arrays.hashCode(value);
  }

  /**
   * A short, readable form of state bytes for {@code toString}s and shrunk property-test
   * counterexamples: {@code ended} for null, hex up to 8 bytes, else the length.
   */
  public static String describeValue(byte[] value) {
    if (value == null) {
      return "ended";
    }
    return value.length <= 8 ? "0x" + HexFormat.of().formatHex(value) : value.length + "B";
  }

  @Override
  public String toString() {
    String v = describeValue(value);
    return "SlotState[e"
        + epoch
        + (claimOffset == SELF ? " claim@self" : " claim@" + claimOffset)
        + " seq="
        + seq
        + " hlc="
        + hlc
        + " "
        + v
        + (handoverTo == null ? "" : " handover->" + handoverTo)
        + "]";
  }
}
