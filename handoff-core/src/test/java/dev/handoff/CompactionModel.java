package dev.handoff;

import dev.handoff.internal.crdt.FencingException;
import dev.handoff.internal.crdt.Hlc;
import dev.handoff.internal.crdt.Replica;
import dev.handoff.internal.crdt.SessionView;
import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A model of writers sharing one compacted log: each writer has its own replica that reads the
 * (possibly compacted) log when told to, so its view can be stale; writers stash, claim, race, end,
 * clean up, and zombies write under old epochs; the log is compacted at arbitrary points. {@link
 * #differences()} compares a replica rebuilt from the log as it is now with one that applied every
 * record ever appended (invariant I2).
 */
final class CompactionModel {

  static final List<String> WRITERS = List.of("a#1", "b#1", "c#1");
  static final List<String> SESSIONS = List.of("s1", "s2", "s3");
  static final long RETENTION_MILLIS = 50;

  /** One step of the model; readable in a shrunk counterexample. */
  sealed interface Op {}

  record Stash(int writer, int session, int value) implements Op {
    @Override
    public String toString() {
      return "Stash(" + w(writer) + ", " + s(session) + ", v" + value + ")";
    }
  }

  record Claim(int writer, int session, int value, boolean carry) implements Op {
    @Override
    public String toString() {
      return "Claim(" + w(writer) + ", " + s(session) + (carry ? ", carry)" : ", v" + value + ")");
    }
  }

  /** Two writers both append a claim before either reads the other's. */
  record RaceClaims(int first, int second, int session) implements Op {
    @Override
    public String toString() {
      return "RaceClaims(" + w(first) + " then " + w(second) + ", " + s(session) + ")";
    }
  }

  record End(int writer, int session) implements Op {
    @Override
    public String toString() {
      return "End(" + w(writer) + ", " + s(session) + ")";
    }
  }

  /** The writer appends, for every session, the tombstones its replica says are safe now. */
  record Cleanup(int writer) implements Op {
    @Override
    public String toString() {
      return "Cleanup(" + w(writer) + ")";
    }
  }

  /** An old incarnation writes under an epoch {@code back} below the current one. */
  record Zombie(int writer, int session, int value, int back, boolean selfClaim) implements Op {
    @Override
    public String toString() {
      return "Zombie("
          + w(writer)
          + ", "
          + s(session)
          + ", v"
          + value
          + ", epoch-"
          + back
          + (selfClaim ? ", claim@self)" : ", claim@0)");
    }
  }

  record Sync(int writer, int records) implements Op {
    @Override
    public String toString() {
      return "Sync(" + w(writer) + ", " + records + ")";
    }
  }

  record Retire(int writer) implements Op {
    @Override
    public String toString() {
      return "Retire(" + w(writer) + ")";
    }
  }

  /**
   * Clean below {@code cleanPct}% of the log end; drop tombstones below {@code tombPct}% of that.
   */
  record Compact(int cleanPct, int tombPct) implements Op {
    @Override
    public String toString() {
      return "Compact(clean<" + cleanPct + "%, tombstones<" + tombPct + "% of that)";
    }
  }

  record Tick(int millis) implements Op {
    @Override
    public String toString() {
      return "Tick(" + millis + "ms)";
    }
  }

  private static String w(int i) {
    return WRITERS.get(i);
  }

  private static String s(int i) {
    return SESSIONS.get(i);
  }

  final InMemoryDeltaLog log = new InMemoryDeltaLog(2);
  private final DeltaLog appender = log.open();
  private final Function<SlotRecord, Object> compactionKey;
  final List<LogEntry> everything = new ArrayList<>();
  private final Replica[] replicas = new Replica[WRITERS.size()];
  private final long[][] positions = new long[WRITERS.size()][2];
  private long now = 1_000;
  private long zombieSeq = 1_000_000;

  // What happened, for statistics and to show the generator reaches the interesting cases.
  int racesLost;
  int zombieWrites;
  int fencedStashes;
  int recordsCompactedAway;
  int tombstonesAppended;
  long tombstonesDropped;

  CompactionModel(Function<SlotRecord, Object> compactionKey) {
    this.compactionKey = compactionKey;
    for (int i = 0; i < replicas.length; i++) {
      replicas[i] = new Replica(new Hlc(() -> now));
    }
  }

  /** The design's record key, (session, writer). */
  static CompactionModel safe() {
    return new CompactionModel(r -> List.of(r.session(), r.writer()));
  }

  void run(Op op) {
    if (op instanceof Stash st) {
      try {
        append(replicas[st.writer()].stash(s(st.session()), w(st.writer()), value(st.value())));
      } catch (FencingException e) {
        fencedStashes++;
      }
    } else if (op instanceof Claim c) {
      append(claim(c.writer(), c.session(), c.carry() ? null : value(c.value())));
    } else if (op instanceof RaceClaims rc) {
      SlotRecord first = claim(rc.first(), rc.session(), value(rc.first()));
      SlotRecord second = claim(rc.second(), rc.session(), value(rc.second()));
      append(first);
      append(second);
      if (rc.first() != rc.second() && first.state().epoch() == second.state().epoch()) {
        racesLost++;
      }
    } else if (op instanceof End e) {
      try {
        append(replicas[e.writer()].end(s(e.session()), w(e.writer())));
      } catch (FencingException | IllegalStateException ex) {
        fencedStashes++;
      }
    } else if (op instanceof Cleanup c) {
      for (String session : SESSIONS) {
        for (SlotRecord t :
            replicas[c.writer()].slotsToTombstone(session, w(c.writer()), now, RETENTION_MILLIS)) {
          append(t);
          tombstonesAppended++;
        }
      }
    } else if (op instanceof Zombie z) {
      Optional<SessionView> current = full().read(s(z.session()));
      long epoch = current.map(v -> v.epoch() - z.back()).orElse(0L);
      if (epoch >= 1) {
        zombieWrites++;
        append(
            new SlotRecord(
                s(z.session()),
                w(z.writer()),
                new SlotState(
                    epoch,
                    z.selfClaim() ? SlotState.SELF : 0,
                    zombieSeq++,
                    Hlc.of(now, 0),
                    value(z.value()),
                    false)));
      }
    } else if (op instanceof Sync sy) {
      sync(sy.writer(), sy.records());
    } else if (op instanceof Retire r) {
      for (Replica replica : replicas) {
        replica.retireWriter(w(r.writer()));
      }
    } else if (op instanceof Compact c) {
      long end = Math.max(log.endOffset(0), log.endOffset(1));
      long cleanBelow = end * c.cleanPct() / 100;
      int before = log.entries().size();
      long tombstonesBefore = tombstonesInLog();
      log.compact(cleanBelow, cleanBelow * c.tombPct() / 100, compactionKey);
      recordsCompactedAway += before - log.entries().size();
      tombstonesDropped += tombstonesBefore - tombstonesInLog();
    } else if (op instanceof Tick t) {
      now += t.millis();
    }
  }

  private long tombstonesInLog() {
    return log.entries().stream().filter(e -> e.record().isTombstone()).count();
  }

  private SlotRecord claim(int writer, int session, byte[] valueOrNull) {
    Replica r = replicas[writer];
    byte[] v = valueOrNull;
    if (v == null && r.value(s(session)).isEmpty()) {
      v = value(writer); // nothing to carry over: a fresh session
    }
    return r.claim(s(session), w(writer), v);
  }

  private static byte[] value(int v) {
    return new byte[] {(byte) v};
  }

  private void append(SlotRecord r) {
    LogPosition p = appender.append(r).join();
    everything.add(new LogEntry(r, p.partition(), p.offset()));
  }

  private void sync(int writer, int records) {
    int n = 0;
    for (LogEntry e : log.entries()) {
      long[] pos = positions[writer];
      if (e.offset() >= pos[e.partition()] && n < records) {
        replicas[writer].apply(e);
        pos[e.partition()] = e.offset() + 1;
        n++;
      }
    }
  }

  /** A replica that applied every record ever appended, in log order. */
  Replica full() {
    var r = new Replica(new Hlc(() -> 0));
    everything.forEach(r::apply);
    return r;
  }

  /** A replica rebuilt from the log as compaction left it. */
  Replica rebuilt() {
    var r = new Replica(new Hlc(() -> 0));
    log.entries().forEach(r::apply);
    return r;
  }

  /** Sessions the rebuilt replica reads differently from the full one, with both readings. */
  List<String> differences() {
    Replica full = full();
    Replica rebuilt = rebuilt();
    var out = new ArrayList<String>();
    for (String s : SESSIONS) {
      var f = full.read(s);
      var r = rebuilt.read(s);
      if (!f.equals(r)) {
        out.add(
            s
                + ": full="
                + f.map(Object::toString).orElse("absent")
                + " rebuilt="
                + r.map(Object::toString).orElse("absent"));
      }
    }
    return out;
  }
}
