package dev.handoff.internal.crdt;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Generators of well-formed logs: one record per offset, sessions pinned to partitions. */
final class Records {
  static final List<String> SESSIONS = List.of("s1", "s2", "s3");
  static final List<String> WRITERS = List.of("a#1", "b#1", "c#1");

  private Records() {}

  /** What one log record says, before it is given an offset. */
  record Spec(
      int session, int writer, int epoch, int claimBack, int value, boolean ended, boolean tomb) {
    @Override
    public String toString() {
      String who = SESSIONS.get(session) + "/" + WRITERS.get(writer);
      if (tomb) {
        return who + " tombstone";
      }
      return who
          + " e"
          + epoch
          + (claimBack == 0 ? " claim@self" : " claim@-" + claimBack)
          + (ended ? " ended" : " v" + value);
    }
  }

  static Arbitrary<Spec> specs() {
    return Combinators.combine(
            Arbitraries.integers().between(0, SESSIONS.size() - 1),
            Arbitraries.integers().between(0, WRITERS.size() - 1),
            Arbitraries.integers().between(1, 3),
            Arbitraries.integers().between(0, 3),
            Arbitraries.integers().between(0, 9),
            Arbitraries.integers().between(0, 9))
        .as((s, w, e, c, v, kind) -> new Spec(s, w, e, c, v, kind == 8, kind == 9));
  }

  /** Gives specs offsets: the i-th record of the log gets offset i. */
  static List<LogEntry> log(List<Spec> specs) {
    var out = new ArrayList<LogEntry>();
    for (int i = 0; i < specs.size(); i++) {
      Spec sp = specs.get(i);
      String session = SESSIONS.get(sp.session());
      String writer = WRITERS.get(sp.writer());
      SlotState state = null;
      if (!sp.tomb()) {
        long claim = sp.claimBack() == 0 ? SlotState.SELF : Math.max(0, i - sp.claimBack());
        state =
            new SlotState(
                sp.epoch(),
                claim,
                i + 1,
                Hlc.of(1_000 + i, 0),
                sp.ended() ? null : new byte[] {(byte) sp.value()},
                sp.ended());
      }
      out.add(new LogEntry(new SlotRecord(session, writer, state), partition(session), i));
    }
    return out;
  }

  static int partition(String session) {
    return Math.floorMod(session.hashCode(), 2);
  }

  static Replica replicaOf(List<LogEntry> entries) {
    var r = new Replica(new Hlc(() -> 0));
    entries.forEach(r::apply);
    return r;
  }

  static List<LogEntry> pick(List<LogEntry> log, List<Boolean> mask) {
    var out = new ArrayList<LogEntry>();
    for (int i = 0; i < log.size(); i++) {
      if (i < mask.size() && mask.get(i)) {
        out.add(log.get(i));
      }
    }
    return out;
  }
}
