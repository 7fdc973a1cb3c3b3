package dev.handoff.bench.crdt;

import dev.handoff.internal.crdt.Hlc;
import dev.handoff.internal.crdt.Replica;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.lang.management.ManagementFactory;
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
 * Heap the replica spends per live session beyond the key and value bytes, at 1M sessions with one
 * slot each (the steady state). Keys and values are allocated first and kept, so the heap delta
 * measured around filling the replica is only its own bookkeeping: map entries, slots, slot states
 * (value arrays, headers included, are allocated before and not counted). The numbers are printed
 * once per fork, before the warm-up; the timed part reads random sessions at that size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx3g", "-Xms3g", "-XX:+UseParallelGC"})
public class HeapPerKeyBenchmark {

  @Param({"1000000"})
  public int keys;

  @Param({"16"})
  public int valueBytes;

  private Replica replica;
  private String[] sessionKeys;
  private long measuredBytesPerKey;
  private long estimatedBytesPerKey;
  private int next;

  @Setup(Level.Trial)
  public void fill() {
    sessionKeys = new String[keys];
    byte[][] values = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      sessionKeys[i] = "session-" + i;
      values[i] = new byte[valueBytes];
      // hash computed up front: a key's cached hash is part of the key, not the map
      sessionKeys[i].hashCode();
    }
    long before = usedHeapAfterGc();
    replica = new Replica(new Hlc(() -> 1_700_000_000_000L));
    for (int i = 0; i < keys; i++) {
      var state =
          new SlotState(1, SlotState.SELF, i + 1, Hlc.of(1_700_000_000_000L, 0), values[i], false);
      replica.apply(new LogEntry(new SlotRecord(sessionKeys[i], "node-1#1", state), i & 7, i));
    }
    long after = usedHeapAfterGc();
    measuredBytesPerKey = (after - before) / keys;
    estimatedBytesPerKey = replica.metadataBytes() / keys;
    System.out.printf(
        "%nreplica heap per key beyond key and value bytes: measured %d B, estimated %d B "
            + "(%d keys, %d-byte values)%n",
        measuredBytesPerKey, estimatedBytesPerKey, keys, valueBytes);
    // keep the values reachable until after the measurement
    if (values[keys - 1].length != valueBytes) {
      throw new AssertionError();
    }
  }

  private static long usedHeapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  @Benchmark
  public Object readRandomSession() {
    next = (next + 7919) % keys;
    return replica.value(sessionKeys[next]);
  }
}
