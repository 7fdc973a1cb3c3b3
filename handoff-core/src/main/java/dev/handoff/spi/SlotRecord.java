package dev.handoff.spi;

import java.util.Objects;

/**
 * One record of the delta log: what one writer incarnation knows of one session.
 *
 * <p>The log's record key is the pair ({@code session}, {@code writer}) (the writer's "slot" for
 * that session), and every record of a session goes to the same partition, chosen from {@code
 * session} alone. Compaction therefore keeps, per session, the last record of every writer; since a
 * writer's later record always carries everything its earlier ones did, the join of the kept
 * records equals the join of all records (invariant I2). See the {@code dev.handoff.internal.crdt}
 * package documentation for the whole argument.
 *
 * @param session the application's session key; non-empty
 * @param writer the writer incarnation id ({@code memberId#epoch}); non-empty
 * @param state the writer's state for the session, or {@code null} for a tombstone that removes the
 *     slot (a Kafka tombstone on the wire)
 */
public record SlotRecord(String session, String writer, SlotState state) {
  public SlotRecord {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(writer, "writer");
    if (session.isEmpty()) {
      throw new IllegalArgumentException("session key must not be empty");
    }
    if (writer.isEmpty()) {
      throw new IllegalArgumentException("writer id must not be empty");
    }
  }

  public static SlotRecord tombstone(String session, String writer) {
    return new SlotRecord(session, writer, null);
  }

  public boolean isTombstone() {
    return state == null;
  }
}
