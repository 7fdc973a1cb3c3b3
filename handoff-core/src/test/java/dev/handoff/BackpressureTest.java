package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Issue 16: stashes offered faster than the log takes them coalesce, and memory stays bounded. */
class BackpressureTest {

  final InMemoryDeltaLog topic = new InMemoryDeltaLog(4, 100_000);
  final InMemoryMembership.Cluster cluster = new InMemoryMembership.Cluster();
  final List<StateHandoff<String>> nodes = new ArrayList<>();

  StateHandoff<String> node(ControlledLog log, String id, long maxPendingBytes) {
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
    get(n.start());
    return n;
  }

  @AfterEach
  void closeAll() {
    nodes.forEach(StateHandoff::close);
  }

  static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(15, TimeUnit.SECONDS).join();
  }

  @Test
  void stashesQueuedBehindOneInFlightCoalesceIntoTheLatest() {
    var log = new ControlledLog(topic.open());
    var a = node(log, "a", 0);
    get(a.stash("k", "v0"));
    log.pauseReader(); // v1 goes out but is not confirmed; v2..v4 wait behind it
    var v1 = a.stash("k", "v1");
    var v2 = a.stash("k", "v2");
    var v3 = a.stash("k", "v3");
    var v4 = a.stash("k", "v4");
    // Stats: v1 in flight and v4 queued (v2 and v3 replaced before they were sent), two bytes each.
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(a.stats().coalescedStashes()).isEqualTo(2));
    assertThat(a.stats().pendingBytes()).isEqualTo(4);
    log.resumeReader();
    for (var f : List.of(v1, v2, v3, v4)) {
      get(f);
    }
    // The owner thread lets go of a write just after its callers complete.
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(a.stats().pendingBytes()).isZero());
    assertThat(get(a.read("k"))).contains("v4");
    var sent =
        topic.entries().stream()
            .filter(e -> e.record().session().equals("k") && !e.record().isTombstone())
            .map(e -> new String(e.record().state().value()))
            .toList();
    assertThat(sent).contains("v0", "v1", "v4").doesNotContain("v2", "v3");
  }

  @Test
  void aStashBeyondTheByteBudgetFailsAtOnceWithOverloadedAndLosesNothing() {
    var log = new ControlledLog(topic.open());
    var a = node(log, "a", 4_100);
    String big = "x".repeat(1_000);
    log.pauseReader();
    var queued = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < 3; i++) {
      queued.add(a.stash("s" + i, big + i)); // sent, waiting for the read-back
    }
    queued.add(a.stash("s0", big + "next")); // queued behind s0's write: 4,009 bytes held
    var refused = a.stash("s3", big);
    assertThat(refused)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(HandoffException.Overloaded.class)
        .withMessageContaining("maxPendingBytes=4100");
    // a newer state of a session whose stash is still queued replaces it: never refused
    queued.add(a.stash("s0", big + "newer"));
    log.resumeReader();
    queued.forEach(BackpressureTest::get);
    assertThat(get(a.read("s0"))).contains(big + "newer");
    assertThat(get(a.read("s3"))).isEmpty();
    get(a.stash("s3", big)); // room again once the others were confirmed
  }

  @Test
  void coalescedCallersFailTogetherWhenTheWriteThatReplacedTheirStatesFails() {
    var log = new ControlledLog(topic.open());
    var a = node(log, "a", 0);
    get(a.stash("k", "v0"));
    log.pauseReader();
    var v1 = a.stash("k", "v1");
    var v2 = a.stash("k", "v2");
    a.close();
    for (var f : List.of(v1, v2)) {
      try {
        get(f);
        throw new AssertionError("expected a failure");
      } catch (CompletionException e) {
        assertThat(e.getCause()).isInstanceOf(HandoffException.class);
      }
    }
  }
}
