package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.Arrival;
import dev.handoff.Drain;
import dev.handoff.HandoverTarget;
import dev.handoff.MemberState;
import dev.handoff.StateHandoff;
import dev.handoff.testkit.EmbeddedEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A drain on real Kafka and ZooKeeper: every session of one node moves to two running peers, each
 * paused only for its own transfer (the time from its stop on the sender to its arrival on the
 * receiver is printed; benchmarks, not this test, judge it), none lost or doubled.
 */
class DrainOnKafkaTest {

  private static EmbeddedEnvironment env;
  private final List<StateHandoff<String>> nodes = new ArrayList<>();

  @BeforeAll
  static void startServers() {
    env = EmbeddedEnvironment.builder().kafkaBrokers(1).zookeeperServers(1).start();
  }

  @AfterAll
  static void stopServers() {
    env.close();
  }

  StateHandoff<String> node(String topic, String id) {
    var c =
        new NodeConfig(
            env.bootstrapServers(),
            env.zookeeperConnect(),
            topic,
            6,
            1,
            id,
            Duration.ofSeconds(10),
            Duration.ofHours(1),
            Map.of());
    var n = NodeFactory.build(c).handoff();
    nodes.add(n);
    n.start().join();
    return n;
  }

  static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Test
  void aDrainMovesEverySessionToRunningPeersWithNoneLostOrDoubled() {
    String topic = "drain-" + System.nanoTime();
    var sender = node(topic, "sender");
    var r1 = node(topic, "receiver-1");
    var r2 = node(topic, "receiver-2");
    int sessions = 2_000;
    var stashes = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < sessions; i++) {
      stashes.add(sender.stash("s" + i, "tick-0"));
    }
    stashes.forEach(DrainOnKafkaTest::get);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                sender.members().stream().filter(m -> m.state() == MemberState.RUNNING).count()
                    == 3);
    var stoppedAt = new ConcurrentHashMap<String, Long>();
    var pauses = new ConcurrentHashMap<String, Long>();
    var arrivedAt = new ConcurrentHashMap<String, String>();
    for (var r : List.of(r1, r2)) {
      r.onHandover(
          (Arrival<String> a) -> {
            pauses.put(a.session(), System.nanoTime() - stoppedAt.get(a.session()));
            arrivedAt.merge(a.session(), r.self().id(), (x, y) -> x + "+" + y);
          });
    }
    Drain drain =
        sender.drain(
            HandoverTarget.newestVersionEvenly(),
            Duration.ofSeconds(60),
            session -> {
              stoppedAt.put(session, System.nanoTime());
              return "tick-1";
            });
    Drain.Result result = get(drain.done());

    assertThat(result.moved()).isEqualTo(sessions);
    await().atMost(Duration.ofSeconds(30)).until(() -> arrivedAt.size() == sessions);
    assertThat(arrivedAt.values()).allMatch(v -> !v.contains("+")); // nobody got one twice
    assertThat(sender.ownedKeys()).isEmpty();
    assertThat(r1.ownedKeys().size() + r2.ownedKeys().size()).isEqualTo(sessions);
    var reader = node(topic, "reader");
    for (int i = 0; i < sessions; i += 97) {
      assertThat(get(reader.read("s" + i))).contains("tick-1");
    }
    long[] ms = pauses.values().stream().mapToLong(n -> n / 1_000).sorted().toArray();
    System.out.printf(
        "drain of %d sessions took %s; pause per session p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        sessions,
        result.took(),
        ms[ms.length / 2] / 1000.0,
        ms[(int) (ms.length * 0.99)] / 1000.0,
        ms[ms.length - 1] / 1000.0);
    assertThat(Arrays.stream(ms).count()).isEqualTo(sessions);
    nodes.forEach(StateHandoff::close);
  }
}
