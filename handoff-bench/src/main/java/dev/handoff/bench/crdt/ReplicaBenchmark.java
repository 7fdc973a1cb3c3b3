package dev.handoff.bench.crdt;

import dev.handoff.internal.crdt.Hlc;
import dev.handoff.internal.crdt.Replica;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the replica's hot paths on one thread: building a stash record (the delta) and
 * joining a delivered record into a session that already exists (a single-key delta join).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx1g"})
public class ReplicaBenchmark {

  /** How many sessions the replica holds besides the one being written. */
  @Param({"1", "100000"})
  public int sessions;

  @Param({"1024"})
  public int valueBytes;

  private Replica replica;
  private SlotRecord[] deltas;
  private byte[] value;
  private long offset;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    replica = new Replica(new Hlc(System::currentTimeMillis));
    value = new byte[valueBytes];
    for (int i = 0; i < sessions; i++) {
      replica.apply(new LogEntry(replica.stash("session-" + i, "node-1#1", value), 0, offset++));
    }
    // records another writer's replica would deliver: stashes by the owner of "session-0"
    deltas = new SlotRecord[1024];
    for (int i = 0; i < deltas.length; i++) {
      deltas[i] = replica.stash("session-0", "node-1#1", value);
    }
  }

  /** The owner builds the next record for a session it owns (fencing check, seq, HLC). */
  @Benchmark
  public SlotRecord stash() {
    return replica.stash("session-0", "node-1#1", value);
  }

  /** A replica joins the next delivered record of one session (the log-sync reader's hot path). */
  @Benchmark
  public boolean applySingleKeyDelta() {
    SlotRecord r = deltas[next++ & (deltas.length - 1)];
    return replica.apply(new LogEntry(r, 0, offset++));
  }

  /** Reads the session's current state (what pickup and peek do). */
  @Benchmark
  public Object read() {
    return replica.value("session-0");
  }
}
