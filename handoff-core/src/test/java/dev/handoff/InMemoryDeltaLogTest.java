package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.handoff.internal.crdt.Replica;
import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InMemoryDeltaLogTest {

  private final InMemoryDeltaLog log = new InMemoryDeltaLog(3, 16);

  @Test
  void everyNodeReadsEveryRecordInOffsetOrderAndBarrierMeansSeen() throws Exception {
    try (DeltaLog a = log.open();
        DeltaLog b = log.open()) {
      var seenByB = new CopyOnWriteArrayList<LogEntry>();
      var seenByA = new CopyOnWriteArrayList<LogEntry>();
      var builder = new Replica(); // builds records on this thread; replicas are single-threaded
      a.start(seenByA::add).get(5, TimeUnit.SECONDS);
      b.start(seenByB::add).get(5, TimeUnit.SECONDS);
      for (int i = 0; i < 50; i++) {
        a.append(builder.claim("s" + (i % 7), "a#1", new byte[] {(byte) i})).join();
      }
      b.barrier().get(5, TimeUnit.SECONDS);
      assertThat(seenByB).hasSize(50);
      for (int p = 0; p < 3; p++) {
        int partition = p;
        var offsets =
            seenByB.stream().filter(e -> e.partition() == partition).map(LogEntry::offset).toList();
        assertThat(offsets).isSorted().doesNotHaveDuplicates();
      }
      seenByB.forEach(
          e ->
              assertThat(e.partition())
                  .isEqualTo(InMemoryDeltaLog.partitionFor(e.record().session(), 3)));
      // the writer's own node gets its records too
      await().atMost(Duration.ofSeconds(5)).until(() -> seenByA.size() == 50);
      assertThat(seenByA).containsExactlyInAnyOrderElementsOf(seenByB);
    }
  }

  @Test
  void aLateNodeReplaysTheCompactedLogBeforeStartCompletes() throws Exception {
    try (DeltaLog writer = log.open()) {
      var w = new Replica();
      LogPosition first = writer.append(w.stash("s", "a#1", new byte[] {1})).join();
      w.apply(new LogEntry(w.stash("s", "a#1", new byte[] {1}), first.partition(), first.offset()));
      writer.append(w.stash("s", "a#1", new byte[] {2})).join();
      log.compact(Long.MAX_VALUE, 0);
      assertThat(log.entries()).hasSize(1);
      try (DeltaLog late = log.open()) {
        var replica = new Replica();
        late.start(replica::apply).get(5, TimeUnit.SECONDS);
        assertThat(replica.value("s")).hasValueSatisfying(v -> assertThat(v).containsExactly(2));
      }
    }
  }

  @Test
  void oversizeStateIsRefusedBeforeAnythingIsAppended() {
    try (DeltaLog a = log.open()) {
      var r = new Replica();
      assertThatThrownBy(() -> a.append(r.stash("big", "a#1", new byte[17])).join())
          .isInstanceOf(CompletionException.class)
          .hasMessageContaining("session 'big' is 17 bytes; the log accepts at most 16");
      assertThat(log.entries()).isEmpty();
    }
  }

  @Test
  void closingFailsPendingWorkAndIsIdempotent() {
    DeltaLog a = log.open();
    assertThatThrownBy(() -> a.barrier().join()).hasMessageContaining("not started");
    a.start(e -> {}).join();
    a.close();
    a.close();
    assertThatThrownBy(() -> a.append(new Replica().stash("s", "a#1", new byte[1])).join())
        .hasMessageContaining("closed");
    assertThat(List.of(a.skippedRecords())).containsExactly(0L);
  }
}
