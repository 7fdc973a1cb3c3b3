package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Issue 15: live handover, drain and adoption, against the in-memory log and membership. */
class HandoverTest {

  final InMemoryDeltaLog topic = new InMemoryDeltaLog(4, 10_000);
  final InMemoryMembership.Cluster cluster = new InMemoryMembership.Cluster();
  final List<StateHandoff<String>> nodes = new ArrayList<>();

  StateHandoff<String> node(String id, String version) {
    StateHandoff<String> n =
        StateHandoff.<String>builder()
            .deltaLog(topic.open())
            .membership(cluster.member(id, "localhost", version))
            .codec(StateCodec.utf8())
            .name(id)
            .sweepInterval(Duration.ofMillis(50))
            .operationTimeout(Duration.ofSeconds(10))
            .build();
    nodes.add(n);
    get(n.start());
    return n;
  }

  StateHandoff<String> node(String id) {
    return node(id, "v1");
  }

  @AfterEach
  void closeAll() {
    nodes.forEach(StateHandoff::close);
  }

  static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(20, TimeUnit.SECONDS).join();
  }

  static void awaitRunning(StateHandoff<String> from, String... ids) {
    await()
        .until(
            () ->
                from.members().stream()
                    .filter(m -> m.state() == MemberState.RUNNING)
                    .map(Member::id)
                    .toList()
                    .containsAll(List.of(ids)));
  }

  @Test
  void aHandedOverSessionIsOwnedByTheReceiverWhichResumesItFromTheSendersLastState() {
    var a = node("a");
    var b = node("b");
    var arrivals = new CopyOnWriteArrayList<Arrival<String>>();
    b.onHandover(arrivals::add);
    get(a.stash("k", "v1"));
    awaitRunning(a, "b");

    WriterId newOwner = get(a.handover("k", "final", "b", Duration.ofSeconds(5)));

    assertThat(newOwner).isEqualTo(b.self().writer());
    await().until(() -> arrivals.size() == 1);
    assertThat(arrivals.get(0).state()).isEqualTo("final");
    assertThat(arrivals.get(0).from()).isEqualTo(a.self().writer());
    assertThat(b.owner("k")).contains(b.self().writer());
    try {
      get(a.stash("k", "late"));
      throw new AssertionError("the sender may not write a session it handed over");
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(HandoffException.Fenced.class);
    }
    get(b.stash("k", "next"));
    assertThat(get(node("c").read("k"))).contains("next");
  }

  @Test
  void aReceiverThatRefusesLeavesTheSessionWithTheSender() {
    var a = node("a");
    var b = node("b");
    b.acceptHandovers(false);
    get(a.stash("k", "v1"));
    awaitRunning(a, "b");
    WriterId owner = get(a.handover("k", "final", "b", Duration.ofSeconds(5)));
    assertThat(owner).isEqualTo(a.self().writer());
    assertThat(get(a.read("k"))).contains("final");
    get(a.stash("k", "still mine"));
    assertThat(get(b.read("k"))).contains("still mine");
  }

  @Test
  void aReceiverThatIsGoneBeforeItClaimsLetsTheSenderTakeTheSessionBack() {
    var a = node("a");
    var b = node("b");
    get(a.stash("k", "v1"));
    awaitRunning(a, "b");
    Member gone = b.self();
    var handover = a.handover("k", "final", "b", Duration.ofMillis(500));
    b.close(); // dies before (or while) it reads the handover
    WriterId owner = get(handover);
    if (owner.equals(a.self().writer())) {
      get(a.stash("k", "after"));
      assertThat(get(node("c").read("k"))).contains("after");
    } else {
      // b claimed it before dying: then it is b's, and can be picked up once b is gone
      assertThat(owner).isEqualTo(gone.writer());
      var c = node("c");
      await().until(() -> c.members().stream().noneMatch(m -> m.id().equals("b")));
      assertThat(get(c.pickup("k"))).contains("final");
    }
  }

  @Test
  void aDrainMovesEverySessionToTheNewestVersionEvenlyEachStoppedOnlyForItsOwnTransfer() {
    var old = node("old", "1.9");
    var n1 = node("new-1", "1.10");
    var n2 = node("new-2", "1.10");
    var oldPeer = node("old-peer", "1.9");
    var arrived = new ConcurrentHashMap<String, String>();
    for (var n : List.of(n1, n2, oldPeer)) {
      n.onHandover(x -> arrived.put(x.session(), n.self().id()));
    }
    for (int i = 0; i < 300; i++) {
      get(old.stash("s" + i, "tick-" + i));
    }
    awaitRunning(old, "new-1", "new-2", "old-peer");
    var stopped = new ConcurrentHashMap<String, Boolean>();
    Drain drain =
        old.drain(
            HandoverTarget.newestVersionEvenly(),
            Duration.ofSeconds(30),
            session -> {
              stopped.put(session, true);
              return "final-" + session;
            });
    Drain.Result r = get(drain.done());

    assertThat(r.moved()).isEqualTo(300);
    assertThat(r.kept() + r.failed() + r.remaining()).isZero();
    assertThat(stopped).hasSize(300);
    await().until(() -> arrived.size() == 300);
    assertThat(arrived.values()).containsOnly("new-1", "new-2");
    long toFirst = arrived.values().stream().filter("new-1"::equals).count();
    assertThat(toFirst).isBetween(140L, 160L);
    assertThat(old.ownedKeys()).isEmpty();
    var reader = node("reader");
    for (int i = 0; i < 300; i++) {
      assertThat(get(reader.read("s" + i))).contains("final-s" + i);
    }
  }

  @Test
  void aDrainKeepsWhatNoReceiverTakesAndTellsTheApplication() {
    var a = node("a");
    var b = node("b");
    b.acceptHandovers(false);
    for (int i = 0; i < 5; i++) {
      get(a.stash("s" + i, "v" + i));
    }
    awaitRunning(a, "b");
    Map<String, String> kept = new ConcurrentHashMap<>();
    Drain d =
        a.drain(
            HandoverTarget.member("b"),
            Duration.ofSeconds(20),
            new SessionMover<>() {
              @Override
              public String stop(String session) {
                return "stopped-" + session;
              }

              @Override
              public void kept(String session, String state) {
                kept.put(session, state);
              }
            });
    Drain.Result r = get(d.done());
    assertThat(r.kept()).isEqualTo(5);
    await().until(() -> kept.size() == 5);
    assertThat(kept).containsEntry("s0", "stopped-s0");
    assertThat(a.ownedKeys()).hasSize(5);
  }

  @Test
  void anAdoptionWaitsUntilTheEarlierIncarnationIsGoneThenClaimsItsSessions() {
    var first = node("pod-0");
    for (int i = 0; i < 100; i++) {
      get(first.stash("s" + i, "v" + i));
    }
    var successor = node("pod-0-successor"); // stands in for the restarted pod's node
    var adopted = new CopyOnWriteArrayList<Arrival<String>>();
    var adoption = successor.adopt("pod-0", Duration.ofSeconds(20), adopted::add);
    await().pollDelay(Duration.ofMillis(300)).until(() -> true);
    assertThat(adoption).as("waits while pod-0 is registered").isNotDone();
    assertThat(adopted).isEmpty();
    first.close(); // the old incarnation goes
    Adoption r = get(adoption);
    assertThat(r.adopted()).isEqualTo(100);
    await().until(() -> adopted.size() == 100);
    assertThat(successor.ownedKeys()).hasSize(100);
    assertThat(adopted).anySatisfy(x -> assertThat(x.state()).isEqualTo("v7"));
  }
}
