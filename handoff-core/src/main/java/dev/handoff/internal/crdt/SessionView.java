package dev.handoff.internal.crdt;

import java.util.Arrays;
import java.util.Objects;

/**
 * How a {@link Replica} reads one session: the winning slot.
 *
 * @param session the session key
 * @param owner the writer that owns the session (the winner of the highest epoch)
 * @param epoch the highest ownership epoch
 * @param claimOffset log offset of the owner's claim of {@code epoch}
 * @param seq the owner's counter for the write that is read (with {@code owner}, its dot)
 * @param hlc hybrid logical clock timestamp of that write
 * @param value the state bytes, or {@code null} if {@code ended}
 * @param ended true when the owner ended the session: the session reads as absent
 * @param handoverTo the writer the owner is handing the session to, or {@code null}
 */
public record SessionView(
    String session,
    String owner,
    long epoch,
    long claimOffset,
    long seq,
    long hlc,
    byte[] value,
    boolean ended,
    String handoverTo) {

  public SessionView {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(owner, "owner");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SessionView v
        && session.equals(v.session)
        && owner.equals(v.owner)
        && epoch == v.epoch
        && claimOffset == v.claimOffset
        && seq == v.seq
        && hlc == v.hlc
        && ended == v.ended
        && Objects.equals(handoverTo, v.handoverTo)
        && Arrays.equals(value, v.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(session, owner, epoch, claimOffset, seq) * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    String v = dev.handoff.spi.SlotState.describeValue(value);
    return session
        + "{owner="
        + owner
        + " e"
        + epoch
        + " claim@"
        + claimOffset
        + " seq="
        + seq
        + " hlc="
        + hlc
        + " "
        + v
        + (handoverTo == null ? "" : " handover->" + handoverTo)
        + "}";
  }
}
