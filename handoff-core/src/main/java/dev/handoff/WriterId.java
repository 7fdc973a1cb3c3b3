package dev.handoff;

import java.util.Objects;

/**
 * The identity of one writer: one incarnation of a member, {@code memberId#epoch}. Incarnations are
 * never reused, so a writer id names exactly one process lifetime (or one registration of it, after
 * a lost membership session). Ordered by member id, then epoch.
 *
 * @param memberId the member id the application chose (for example a pod name); non-empty, without
 *     {@code '#'}
 * @param epoch the incarnation's fencing epoch (for ZooKeeper membership, its znode's {@code
 *     czxid})
 */
public record WriterId(String memberId, long epoch) implements Comparable<WriterId> {

  public WriterId {
    Objects.requireNonNull(memberId, "memberId");
    if (memberId.isEmpty() || memberId.indexOf('#') >= 0) {
      throw new IllegalArgumentException(
          "memberId must be non-empty and without '#', was '" + memberId + "'");
    }
  }

  /**
   * Reads the {@code memberId#epoch} form that {@link #toString()} writes and the log carries.
   *
   * @throws IllegalArgumentException if {@code text} is not of that form
   */
  public static WriterId parse(String text) {
    Objects.requireNonNull(text, "text");
    int i = text.lastIndexOf('#');
    if (i <= 0 || i == text.length() - 1) {
      throw new IllegalArgumentException("not a writer id (memberId#epoch): '" + text + "'");
    }
    try {
      return new WriterId(text.substring(0, i), Long.parseLong(text.substring(i + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a writer id (memberId#epoch): '" + text + "'", e);
    }
  }

  /**
   * The writer id of a record as the log carries it. A writer string this version cannot read (a
   * foreign record) becomes a writer id of epoch -1 whose member id is the string with every {@code
   * '#'} replaced by {@code '_'}, so the API can still name it.
   */
  static WriterId fromLog(String writer) {
    try {
      return parse(writer);
    } catch (IllegalArgumentException e) {
      return new WriterId(writer.replace('#', '_'), -1);
    }
  }

  /** True if {@code other} is another incarnation of the same member. */
  public boolean sameMember(WriterId other) {
    return memberId.equals(other.memberId);
  }

  @Override
  public int compareTo(WriterId o) {
    int c = memberId.compareTo(o.memberId);
    return c != 0 ? c : Long.compare(epoch, o.epoch);
  }

  /** The {@code memberId#epoch} form, as the log carries it. */
  @Override
  public String toString() {
    return memberId + "#" + epoch;
  }
}
