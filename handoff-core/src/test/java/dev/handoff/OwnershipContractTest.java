package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.Membership;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ownership contract (issue 13): a write reports success only if every later winner sees it.
 * Each case here failed on the code before the fix; the test names say what must hold.
 */
class OwnershipContractTest {

  static final StateCodec<String> UTF8 = StateCodec.utf8();

  final InMemoryDeltaLog topic = new InMemoryDeltaLog(4, 1024);
  final InMemoryMembership.Cluster cluster = new InMemoryMembership.Cluster();
  final List<StateHandoff<String>> nodes = new ArrayList<>();

  StateHandoff<String> node(DeltaLog log, Membership membership, String name) {
    return node(log, membership, name, Duration.ofHours(1));
  }

  StateHandoff<String> node(
      DeltaLog log, Membership membership, String name, Duration endedRetention) {
    StateHandoff<String> n =
        StateHandoff.<String>builder()
            .deltaLog(log)
            .membership(membership)
            .codec(UTF8)
            .name(name)
            .endedRetention(endedRetention)
            .sweepInterval(Duration.ofMillis(50))
            .operationTimeout(Duration.ofSeconds(10))
            .build();
    nodes.add(n);
    get(n.start());
    return n;
  }

  StateHandoff<String> node(String id) {
    return node(topic.open(), cluster.member(id), id);
  }

  @AfterEach
  void closeAll() {
    nodes.forEach(StateHandoff::close);
  }

  static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(15, TimeUnit.SECONDS).join();
  }

  static Throwable failure(CompletableFuture<?> f) {
    try {
      f.orTimeout(15, TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected the operation to fail");
  }

  /** Item 1: a stash that lands after another node's claim fails; it is never acknowledged. */
  @Test
  void aZombieStashThatLandsAfterAnotherNodesClaimFailsWithFenced() {
    var zombieLog = new ControlledLog(topic.open());
    var zombieMembership = new ZombieMembership(cluster, "a");
    var a = node(zombieLog, zombieMembership, "a");
    get(a.stash("k", "v1"));

    zombieLog.pauseReader(); // a's reader has not seen what comes next
    zombieMembership.expireWhilePaused();
    var b = node("b");
    await().until(() -> b.members().stream().noneMatch(m -> m.id().equals("a")));
    assertThat(get(b.pickup("k"))).contains("v1");

    var late = a.stash("k", "v2"); // a still believes it owns k
    zombieLog.resumeReader();
    assertThat(failure(late)).isInstanceOf(HandoffException.Fenced.class);
    assertThat(get(node("c").read("k"))).contains("v1");
  }

  /**
   * Item 1, the related race: b's barrier ran before a's record landed and a's record landed before
   * b's claim. Then a's stash legitimately came first: if it succeeds, b's pickup returns its
   * value, and so does every later reader, also after b dies at once.
   */
  @Test
  void aStashThatLandsBetweenAPickupsBarrierAndItsClaimIsSeenByThatPickup() {
    var zombieMembership = new ZombieMembership(cluster, "a");
    var a = node(topic.open(), zombieMembership, "a");
    get(a.stash("k", "v1"));
    zombieMembership.expireWhilePaused();

    var bLog = new ControlledLog(topic.open());
    var b = node(bLog, cluster.member("b"), "b");
    await().until(() -> b.members().stream().noneMatch(m -> m.id().equals("a")));
    bLog.holdAppends(r -> r.session().equals("k"));
    var pickup = b.pickup("k");
    get(bLog.appendHeld); // b read to the end and built its claim; the claim is not sent yet

    var stash = a.stash("k", "v2");
    boolean acked;
    try {
      get(stash);
      acked = true;
    } catch (CompletionException e) {
      acked = false;
    }
    bLog.releaseAppends();
    Optional<String> picked = get(pickup);
    if (acked) {
      assertThat(picked).contains("v2");
      b.close(); // dies at once, nothing more written
      assertThat(get(node("c").pickup("k"))).contains("v2");
    } else {
      assertThat(picked).contains("v1");
    }
  }

  /** Item 2: an ended session stays ended even when a zombie's record of it lands later. */
  @Test
  void aZombiesLateRecordNeverResurrectsAnEndedSession() {
    var zombieLog = new ControlledLog(topic.open());
    var zombieMembership = new ZombieMembership(cluster, "a");
    var a = node(zombieLog, zombieMembership, "a");
    get(a.stash("k", "v1"));
    zombieLog.pauseReader();
    zombieMembership.expireWhilePaused();

    var b = node(topic.open(), cluster.member("b"), "b", Duration.ofMillis(200));
    await().until(() -> b.members().stream().noneMatch(m -> m.id().equals("a")));
    assertThat(get(b.pickup("k"))).contains("v1");
    get(b.stash("k", "v2"));
    // b's housekeeping tombstones a's old slot; then a's zombie record lands
    await().atMost(Duration.ofSeconds(5)).until(() -> slotsOf("k") == 1);
    a.stash("k", "zombie");
    await().until(() -> topic.entries().stream().anyMatch(e -> isValue(e, "zombie")));
    get(b.end("k"));
    // well past the ended retention: the session must stay absent everywhere
    await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> true);
    var c = node("c");
    assertThat(get(c.read("k"))).isEmpty();
    assertThat(c.keys()).doesNotContain("k");
    assertThat(get(c.pickup("k"))).isEmpty();
    assertThat(b.keys()).doesNotContain("k");
  }

  /**
   * Found by the randomized fault test: a node whose membership was lost and re-registered kept
   * stashing a session that another node had picked up and ended, and each stash re-created it.
   */
  @Test
  void aStashOfASessionThatAnotherNodeEndedFailsInsteadOfReCreatingIt() {
    var zombieMembership = new ZombieMembership(cluster, "a");
    var a = node(topic.open(), zombieMembership, "a");
    get(a.stash("k", "v1"));
    zombieMembership.expireWhilePaused();
    var b = node("b");
    await().until(() -> b.members().stream().noneMatch(m -> m.id().equals("a")));
    assertThat(get(b.pickup("k"))).contains("v1");
    get(b.end("k"));
    await().until(() -> get(a.read("k")).isEmpty());
    assertThat(failure(a.stash("k", "again"))).isInstanceOf(HandoffException.Fenced.class);
    assertThat(get(node("c").read("k"))).isEmpty();
  }

  /** Item 3: a failed append does not make the replica's metadata grow for ever. */
  @Test
  void oneFailedAppendDoesNotMakeMetadataGrowWithEveryLaterWrite() {
    var aLog = new FailingOnceLog(topic.open());
    var a = node(aLog, cluster.member("a"), "a");
    get(a.stash("k", "v0"));
    aLog.failNext = true;
    assertThat(failure(a.stash("k", "lost"))).isNotNull();
    for (int i = 0; i < 3000; i++) {
      get(a.stash("s" + (i % 10), "v" + i));
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(a.stats().metadataBytes()).isLessThan(20_000));
  }

  /** Item 5: leave() waits for a stash that raced it, and that stash is acknowledged. */
  @Test
  void leaveWaitsForAStashThatRacedIt() throws Exception {
    var encoding = new CountDownLatch(1);
    var release = new CountDownLatch(1);
    StateCodec<String> slow =
        new StateCodec<>() {
          @Override
          public byte[] encode(String state) {
            if (state.equals("slow")) {
              encoding.countDown();
              try {
                release.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return UTF8.encode(state);
          }

          @Override
          public String decode(byte[] bytes) {
            return UTF8.decode(bytes);
          }
        };
    StateHandoff<String> a =
        StateHandoff.<String>builder()
            .deltaLog(topic.open())
            .membership(cluster.member("a"))
            .codec(slow)
            .name("a")
            .build();
    nodes.add(a);
    get(a.start());
    var stash = CompletableFuture.supplyAsync(() -> a.stash("k", "slow")).thenCompose(f -> f);
    assertThat(encoding.await(5, TimeUnit.SECONDS)).isTrue();
    var left = a.leave();
    Thread.sleep(200); // give a wrong leave() the time to complete
    assertThat(left).as("leave() must wait for the racing stash").isNotDone();
    release.countDown();
    get(stash);
    get(left);
    assertThat(get(node("b").read("k"))).contains("slow");
  }

  /** Item 6: user code that blocks in a callback never freezes the node. */
  @Test
  void aCallbackThatBlocksOnAnotherOperationDoesNotFreezeTheNode() {
    var a = node("a");
    get(a.stash("x", "1"));
    get(a.stash("y", "2"));
    get(a.leave());
    var b = node("b");
    // the pickup appends a claim, so its future completes later, wherever the node completes it
    var chained = b.pickup("x").thenApply(v -> b.read("y").join());
    assertThat(get(chained)).contains("2");
    get(b.pickup("y"));
    var chainedStash = b.stash("x", "3").thenApply(v -> b.stash("y", "4").join());
    get(chainedStash);
    assertThat(get(b.read("y"))).contains("4");
  }

  /** Item 8: a record from a node whose clock is a year ahead does not stop cleanup. */
  @Test
  void aFarFutureClockDoesNotKeepEndedSessionsForEver() {
    var raw = topic.open();
    raw.start(e -> {}).join();
    long yearAhead = (System.currentTimeMillis() + Duration.ofDays(365).toMillis()) << 16;
    get(
        raw.append(
            new SlotRecord(
                "other",
                "skewed#99",
                new SlotState(1, SlotState.SELF, 1, yearAhead, "x".getBytes(), false))));
    raw.close();
    var a = node(topic.open(), cluster.member("a"), "a", Duration.ofMillis(100));
    get(a.stash("k", "v"));
    get(a.end("k"));
    await().atMost(Duration.ofSeconds(5)).until(() -> slotsOf("k") == 0);
  }

  /**
   * Item 4: two live processes with one member id. The newer wins; the older is fenced for good
   * (its writes fail, it is out of service and says why), and never takes a session from the newer.
   */
  @Test
  void anOlderIncarnationIsFencedAndNeverTakesASessionFromANewerOne() {
    var older = node(topic.open(), cluster.member("twin"), "twin-old");
    get(older.stash("k", "from-older"));
    var newer = node(topic.open(), cluster.member("twin"), "twin-new");
    await().atMost(Duration.ofSeconds(5)).until(() -> older.state() == NodeState.FAILED);
    assertThat(older.failure()).get().isInstanceOf(HandoffException.Fenced.class);
    assertThat(failure(older.stash("k", "late"))).isInstanceOf(HandoffException.class);
    assertThat(failure(older.pickup("k"))).isInstanceOf(HandoffException.class);
    assertThat(get(newer.pickup("k"))).contains("from-older");
    get(newer.stash("k", "from-newer"));
    assertThat(get(node("c").read("k"))).contains("from-newer");
    assertThat(newer.owner("k")).contains(newer.self().writer());
  }

  /** Item 4: an older incarnation's pickup never takes a session from a newer RUNNING one. */
  @Test
  void aPickupNeverTakesASessionFromANewerIncarnationOfItsOwnMemberId() {
    var olderMembership = new ZombieMembership(cluster, "twin");
    var older = node(topic.open(), olderMembership, "twin-old");
    // it sees the newer incarnation in the group but has not yet handled being superseded
    olderMembership.pause();
    olderMembership.readMembersFromTheRegistry();
    var newer = node(topic.open(), cluster.member("twin"), "twin-new");
    get(newer.stash("k", "from-newer"));
    await().until(() -> get(older.read("k")).isPresent());
    assertThat(older.isReady()).isTrue();
    assertThat(failure(older.pickup("k")))
        .isInstanceOf(HandoffException.OwnedElsewhere.class)
        .hasMessageContaining("newer incarnation");
    assertThat(get(newer.read("k"))).contains("from-newer");
  }

  /** Item 13: a claim whose send timed out but which was written is reported as the win it is. */
  @Test
  void aClaimWhoseSendTimedOutButWasWrittenIsReportedByItsReadBack() {
    var a = node("a");
    get(a.stash("k", "v1"));
    get(a.leave());
    var bLog = new ControlledLog(topic.open());
    var b = node(bLog, cluster.member("b"), "b");
    bLog.failAfterWriting(r -> r.session().equals("k"));
    CompletableFuture<Optional<String>> pickup = b.pickup("k");
    try {
      assertThat(get(pickup)).contains("v1");
      assertThat(b.owner("k")).contains(b.self().writer());
    } catch (CompletionException e) {
      // reported as failed: then the claim must not have won
      var c = node("c");
      assertThat(get(c.read("k"))).contains("v1");
      assertThat(c.owner("k")).isNotEqualTo(Optional.of(b.self().writer()));
    }
  }

  /** Item 9: a reader that stops takes the node out of RUNNING and fails what waits on it. */
  @Test
  void aDeadReaderTakesTheNodeOutOfServiceAndLetsOthersPickUpItsSessions() {
    var aLog = topic.open();
    var a = node(aLog, cluster.member("a"), "a");
    get(a.stash("k", "v1"));
    InMemoryDeltaLog.failReader(aLog, new OutOfMemoryError("test: reader out of memory"));
    await().atMost(Duration.ofSeconds(5)).until(() -> !a.isReady());
    assertThat(failure(a.stash("k", "v2"))).isInstanceOf(HandoffException.class);
    var b = node("b");
    await().until(() -> b.members().stream().noneMatch(m -> m.id().equals("a")));
    assertThat(get(b.pickup("k"))).contains("v1");
  }

  private long slotsOf(String session) {
    var latest = new java.util.HashMap<String, LogEntry>();
    for (LogEntry e : topic.entries()) {
      if (e.record().session().equals(session)) {
        latest.put(e.record().writer(), e);
      }
    }
    return latest.values().stream().filter(e -> !e.record().isTombstone()).count();
  }

  private static boolean isValue(LogEntry e, String value) {
    return e.record().state() != null
        && e.record().state().value() != null
        && new String(e.record().state().value()).equals(value);
  }

  /** A log whose next append fails after its record was built (a broker outage). */
  static final class FailingOnceLog extends ForwardingDeltaLog {
    volatile boolean failNext;

    FailingOnceLog(DeltaLog inner) {
      super(inner);
    }

    @Override
    public CompletableFuture<dev.handoff.spi.LogPosition> append(SlotRecord record) {
      if (failNext && !record.isTombstone()) {
        failNext = false;
        return CompletableFuture.failedFuture(new RuntimeException("broker unreachable (test)"));
      }
      return inner.append(record);
    }
  }
}
