package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: memory stays bounded even when the node's own owner thread is what cannot keep up, and
 * the default bound on pending state bytes follows the log's send buffer.
 */
class OwnerSaturationTest {

  final InMemoryDeltaLog topic = new InMemoryDeltaLog(4, 100_000);
  final InMemoryMembership.Cluster cluster = new InMemoryMembership.Cluster();
  final List<StateHandoff<String>> nodes = new ArrayList<>();

  @AfterEach
  void closeAll() {
    nodes.forEach(StateHandoff::close);
  }

  StateHandoff<String> node(DeltaLog log, String id, long maxPendingBytes) {
    var b =
        StateHandoff.<String>builder()
            .deltaLog(log)
            .membership(cluster.member(id))
            .codec(StateCodec.utf8())
            .name(id)
            .operationTimeout(Duration.ofSeconds(10));
    if (maxPendingBytes > 0) {
      b.maxPendingBytes(maxPendingBytes);
    }
    StateHandoff<String> n = b.build();
    nodes.add(n);
    n.start().orTimeout(15, TimeUnit.SECONDS).join();
    return n;
  }

  @Test
  void aSaturatedOwnerThreadRefusesStashesAtOnceInsteadOfQueueingThemWithoutBound()
      throws Exception {
    var log = new StallingLog(topic.open());
    var a = node(log, "a", 1_000_000);
    String big = "x".repeat(50_000);
    log.stallNextAppend(); // the owner thread sends the next write, then hangs in append
    var first = a.stash("s-first", big);
    assertThat(log.stalled.await(5, TimeUnit.SECONDS)).isTrue();
    // Nothing more is looked at: the node holds a budget's worth (1 MiB) of these, no more.
    var futures = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < 40; i++) {
      futures.add(a.stash("s" + i, big + i));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> done(futures) >= 19);
    var refused = futures.stream().filter(CompletableFuture::isDone).toList();
    var waiting = futures.stream().filter(f -> !f.isDone()).toList();
    assertThat(waiting).hasSizeBetween(19, 21); // ~1 MiB of 50,001-byte states
    for (var f : refused) {
      assertThat(f)
          .failsWithin(Duration.ZERO)
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(HandoffException.Overloaded.class)
          .withMessageContaining("not even queued yet");
    }
    log.release();
    first.orTimeout(10, TimeUnit.SECONDS).join();
    // Once the owner thread runs again it looks at what it had (its byte budget may refuse some).
    for (var f : waiting) {
      try {
        f.orTimeout(10, TimeUnit.SECONDS).join();
      } catch (CompletionException e) {
        assertThat(e.getCause()).isInstanceOf(HandoffException.Overloaded.class);
      }
    }
    a.stash("s-later", "small").orTimeout(10, TimeUnit.SECONDS).join();
  }

  @Test
  void theDefaultBoundOnPendingBytesStaysBelowTheLogsSendBuffer() {
    var held = new ControlledLog(topic.open());
    var log = new BufferOf(held, 5_000);
    var a = node(log, "a", 0);
    String big = "y".repeat(1_000);
    held.holdAppends(r -> true); // writes stay in flight: sent, never acknowledged
    var futures = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < 10; i++) {
      futures.add(a.stash("s" + i, big));
    }
    // 0.9 × 5,000 = 4,500 bytes: four states in flight, then refused.
    await().atMost(Duration.ofSeconds(5)).until(() -> done(futures) >= 6);
    var waiting = futures.stream().filter(f -> !f.isDone()).toList();
    assertThat(waiting).hasSize(4);
    futures.stream()
        .filter(CompletableFuture::isDone)
        .forEach(
            f ->
                assertThat(f)
                    .failsWithin(Duration.ZERO)
                    .withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(HandoffException.Overloaded.class)
                    .withMessageContaining("maxPendingBytes=4500"));
    held.releaseAppends();
    waiting.forEach(f -> f.orTimeout(10, TimeUnit.SECONDS).join());
  }

  /**
   * Callers judge the latency bound from other threads while the owner thread changes what it is
   * computed from. The first version kept the held writes' count and the sum of their queue times
   * as two fields: a count from after a change and a sum from before it made a write just queued
   * look as if it had waited since the class was loaded, and an idle node refused stashes (seen in
   * CI: "holds 21 bytes ... writes take 0 ms on average"). Bursts of 20 stashes on the in-memory
   * log are held for well under the bound.
   */
  @Test
  void burstsOfStashesOnAnIdleNodeAreNeverRefusedAsSlow() throws Exception {
    var a = node(topic.open(), "a", 0);
    // Each burst starts from nothing held: the first write is queued by the owner thread while
    // the caller is still stashing the rest of the burst, the moment the torn read showed.
    for (int burst = 0; burst < 3_000; burst++) {
      var futures = new ArrayList<CompletableFuture<Void>>();
      for (int i = 0; i < 20; i++) {
        futures.add(a.stash("s" + i, "v" + burst));
      }
      for (var f : futures) {
        assertThat(f).succeedsWithin(Duration.ofSeconds(10));
      }
    }
  }

  /**
   * The latency bound is for a backlog, not for a slow machine: a caller with a few hundred stashes
   * in flight cannot overload the node, however long each takes (a loaded host, a GC pause, a
   * broker that answers slowly). Refusing them only made the benchmark's and the demo's bulk
   * creation fail on a busy machine ("holds 1024 bytes ... those held have waited 528 ms"); the
   * bound now also asks how long the backlog takes at the recent rate, not how long it waited.
   */
  @Test
  void aFewHundredSlowWritesInFlightAreNotRefusedAsSlow() throws Exception {
    var log = new ControlledLog(topic.open());
    var a = node(log, "a", 0);
    get(a.stash("warm", "v"));
    log.pauseReader(); // every write is sent and waits for its read-back
    var first = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < 200; i++) {
      first.add(a.stash("s" + i, "v" + i));
    }
    // For 800 ms nothing is read back: the held writes have then waited longer than half the
    // bound on 1 s the first version of the latency bound judged by.
    await()
        .during(Duration.ofMillis(800))
        .atMost(Duration.ofSeconds(3))
        .until(() -> first.stream().noneMatch(CompletableFuture::isDone));
    var second = new ArrayList<CompletableFuture<Void>>();
    for (int i = 200; i < 400; i++) {
      second.add(a.stash("s" + i, "v" + i));
    }
    log.resumeReader();
    for (var f : first) {
      assertThat(f).succeedsWithin(Duration.ofSeconds(10));
    }
    for (var f : second) {
      assertThat(f).succeedsWithin(Duration.ofSeconds(10));
    }
  }

  private static void get(CompletableFuture<?> f) {
    f.orTimeout(15, TimeUnit.SECONDS).join();
  }

  private static long done(List<CompletableFuture<Void>> futures) {
    return futures.stream().filter(CompletableFuture::isDone).count();
  }

  /** A log that reports a send buffer of a given size and otherwise delegates. */
  static final class BufferOf extends ForwardingDeltaLog {
    private final long bytes;

    BufferOf(DeltaLog inner, long bytes) {
      super(inner);
      this.bytes = bytes;
    }

    @Override
    public long appendBufferBytes() {
      return bytes;
    }
  }

  /** A log whose next append holds the calling thread (the owner thread) until released. */
  static final class StallingLog extends ForwardingDeltaLog {
    final CountDownLatch stalled = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean stallNext;

    StallingLog(DeltaLog inner) {
      super(inner);
    }

    void stallNextAppend() {
      stallNext = true;
    }

    void release() {
      released.countDown();
    }

    @Override
    public CompletableFuture<LogPosition> append(SlotRecord record) {
      if (stallNext) {
        stallNext = false;
        stalled.countDown();
        try {
          released.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return inner.append(record);
    }

    @Override
    public void close() {
      release();
      inner.close();
    }
  }
}
