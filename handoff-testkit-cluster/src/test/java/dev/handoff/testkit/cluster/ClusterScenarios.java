package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.HandoffException;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.HandoffEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The StateHandoff scenarios on real Kafka and ZooKeeper: handoff of many sessions, a writer killed
 * right after its stash, racing pickups, a zombie after a session expiry, a broker restart during a
 * rolling deploy, and member events.
 *
 * <p>One source of scenarios for every environment: each subclass supplies a running environment
 * with one broker, one ZooKeeper server and fast compaction ({@link EmbeddedClusterScenariosTest},
 * {@link SecuredClusterScenariosTest}, {@link ContainerClusterScenariosTest}). Nodes and raw
 * clients take their security settings from the environment.
 */
abstract class ClusterScenarios {
  private static final Logger log = LoggerFactory.getLogger(ClusterScenarios.class);

  private HandoffCluster cluster;

  /** The environment the scenarios run against; started, with fast compaction. */
  protected abstract HandoffEnvironment env();

  private HandoffCluster cluster() {
    cluster = HandoffCluster.builder().environment(env()).fastCompaction(true).start();
    return cluster;
  }

  @AfterEach
  void closeCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Test
  void aLeavingNodeHandsAThousandSessionsToAFreshNode() {
    var c = cluster();
    var a = c.addNode();
    var stashes = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < 1000; i++) {
      stashes.add(a.stash("game-" + i, state(i)));
    }
    stashes.forEach(ClusterScenarios::get);
    c.stopNode(a);
    long t0 = System.nanoTime();
    var b = c.addNode();
    long startMs = (System.nanoTime() - t0) / 1_000_000;
    long[] latencies = new long[1000];
    for (int i = 0; i < 1000; i++) {
      long p0 = System.nanoTime();
      assertThat(get(b.pickup("game-" + i))).as("game-%d", i).contains(state(i));
      latencies[i] = System.nanoTime() - p0;
    }
    assertThat(b.ownedKeys()).hasSize(1000);
    Arrays.sort(latencies);
    log.info(
        "successor ready {} ms after the predecessor left; then 1000 pickups one by one:"
            + " p50 {} us, p99 {} us, max {} us",
        startMs,
        latencies[500] / 1_000,
        latencies[989] / 1_000,
        latencies[999] / 1_000);
  }

  @Test
  void aStashSurvivesTheWriterBeingKilledAtOnce() {
    var c = cluster();
    var writer = c.addProcessNode();
    var reader = c.addNode();
    for (int i = 0; i < 20; i++) {
      get(writer.stash("s" + i, "v" + i));
    }
    get(writer.stash("last", "acknowledged"));
    c.killNode(writer); // kill -9 right after the acknowledgement
    assertThat(writer.isAlive()).isFalse();
    c.waitUntil(
        "the killed writer is seen down",
        () ->
            reader.events().stream()
                .anyMatch(
                    e -> e.type().equals("MemberDown") && e.writerId().equals(writer.writerId())));
    assertThat(get(reader.pickup("last"))).contains("acknowledged");
    for (int i = 0; i < 20; i++) {
      assertThat(get(reader.pickup("s" + i))).contains("v" + i);
    }
  }

  @Test
  void ofTwoNodesPickingUpTheSameSessionExactlyOneWinsEveryRound() {
    var c = cluster();
    var owner = c.addNode();
    var b = c.addNode();
    var d = c.addNode();
    for (int i = 0; i < 100; i++) {
      get(owner.stash("race-" + i, "state-" + i));
    }
    c.stopNode(owner);
    c.waitUntil(
        "both see the owner gone",
        () ->
            List.of(b, d).stream()
                .allMatch(
                    n ->
                        n.events().stream()
                            .anyMatch(
                                e ->
                                    e.type().equals("MemberDown")
                                        && e.memberId().equals(owner.id()))));
    for (int round = 0; round < 100; round++) {
      String key = "race-" + round;
      var fb = b.pickup(key);
      var fd = d.pickup(key);
      int winners = 0;
      for (var f : List.of(fb, fd)) {
        try {
          assertThat(get(f)).contains("state-" + round);
          winners++;
        } catch (CompletionException e) {
          assertThat(e.getCause()).isInstanceOf(HandoffException.OwnedElsewhere.class);
        }
      }
      assertThat(winners).as("winners in round %d", round).isEqualTo(1);
      get(b.read(key));
      get(d.read(key));
      assertThat(b.owner(key)).isEqualTo(d.owner(key));
    }
  }

  @Test
  void aZombieAfterSessionExpiryNeverOverwritesTheNewOwner() throws Exception {
    var c = cluster();
    var zombie = c.addNode();
    get(zombie.stash("zombie-session", "old"));
    String zombieWriter = zombie.writerId();
    var successor = c.addNode();
    c.expireSession(zombie); // as if the process paused past its ZooKeeper session
    c.waitUntil(
        "the successor sees the zombie expire",
        () ->
            successor.events().stream()
                .anyMatch(
                    e ->
                        e.type().equals("MemberDown")
                            && e.writerId().equals(zombieWriter)
                            && e.detail().equals("EXPIRED")));
    assertThat(get(successor.pickup("zombie-session"))).contains("old");
    get(successor.stash("zombie-session", "new"));

    // The zombie's own node refuses: it lost its membership, or (re-registered) it no longer owns
    // k.
    try {
      get(zombie.stash("zombie-session", "zombie-via-api"));
      throw new AssertionError("the zombie's stash must be refused");
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(HandoffException.Fenced.class);
    }
    // A zombie that did not notice anything still gets its record into the log: it must lose.
    try (var raw =
        KafkaDeltaLog.builder()
            .bootstrapServers(env().bootstrapServers())
            .topic(c.topic())
            .partitions(4)
            .replicationFactor(1)
            .clientProperties(env().kafkaClientProperties())
            .acceptDataLossRisk("delete.retention.ms") // the fast-compaction topic
            .build()) {
      get(raw.start(e -> {}));
      get(
          raw.append(
              new SlotRecord(
                  "zombie-session",
                  zombieWriter,
                  new SlotState(1, 0, 1_000, Long.MAX_VALUE >>> 2, "zombie".getBytes(), false))));
    }
    var observer = c.addNode();
    assertThat(get(observer.read("zombie-session"))).contains("new");
    assertThat(get(successor.read("zombie-session"))).contains("new");
    assertThat(observer.owner("zombie-session")).contains(successor.writerId());

    // Rebuilt after real compaction: keep rewriting a few filler sessions (each append past
    // segment.ms rolls a segment) until the cleaner has visibly dropped superseded records.
    long before = countRecords(c.topic(), "zombie-session");
    int[] n = {0};
    // The broker's cleaner runs on its own schedule; on a loaded 2-core machine it has taken over
    // a minute: wait up to three (it returns as soon as the records are gone).
    c.waitUntil(
        "the log cleaner compacts the topic",
        Duration.ofMinutes(3),
        () -> {
          get(successor.stash("filler-" + (n[0]++ % 40), "x" + n[0]));
          return countRecords(c.topic(), "zombie-session") < before;
        });
    var rebuilt = c.addNode();
    assertThat(get(rebuilt.read("zombie-session"))).contains("new");
    assertThat(rebuilt.owner("zombie-session")).contains(successor.writerId());
  }

  @Test
  void aBrokerRestartDuringARollingDeployLosesNothing() {
    var c = cluster();
    var old1 = c.addNode();
    var old2 = c.addNode();
    for (int i = 0; i < 200; i++) {
      get((i % 2 == 0 ? old1 : old2).stash("s" + i, "v" + i));
    }
    // roll old1 -> new1 while the broker restarts under the stashes
    var pending = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < 200; i += 2) {
      pending.add(old1.stash("s" + i, "v" + i + "-final"));
    }
    c.restartBroker(0);
    pending.forEach(ClusterScenarios::get);
    c.stopNode(old1);
    var new1 = c.addNode();
    for (int i = 0; i < 200; i += 2) {
      assertThat(get(new1.pickup("s" + i))).as("s%d", i).contains("v" + i + "-final");
    }
    c.stopNode(old2);
    var new2 = c.addNode();
    for (int i = 1; i < 200; i += 2) {
      assertThat(get(new2.pickup("s" + i))).as("s%d", i).contains("v" + i);
    }
  }

  @Test
  void memberEventsArriveForAddStopKillAndExpiry() {
    var c = cluster();
    var watcher = c.addNode();
    var added = c.addNode();
    c.waitUntil("MemberUp for an added node", () -> sawEvent(watcher, "MemberUp", added, null));
    c.stopNode(added);
    c.waitUntil(
        "MemberDown(LEFT) for a stopped node",
        () -> sawEvent(watcher, "MemberDown", added, "LEFT"));
    var killed = c.addProcessNode();
    c.waitUntil("MemberUp for a process node", () -> sawEvent(watcher, "MemberUp", killed, null));
    c.killNode(killed);
    c.waitUntil(
        "MemberDown(EXPIRED) for a killed node",
        Duration.ofSeconds(30),
        () -> sawEvent(watcher, "MemberDown", killed, "EXPIRED"));
    var expired = c.addNode();
    String before = expired.writerId();
    // A real expiry follows the member's last write by at least a session timeout, so a znode that
    // goes away right after its data changed is taken for a graceful leave (GroupView.reasonFor).
    // The forced expiry below can follow the RUNNING write within milliseconds: wait until the
    // watcher has read it (CI once saw LEFT otherwise).
    c.waitUntil(
        "the watcher sees the node to expire RUNNING",
        () ->
            sawEvent(watcher, "MemberUp", expired, "RUNNING")
                || sawEvent(watcher, "MemberChanged", expired, "RUNNING"));
    c.expireSession(expired);
    c.waitUntil(
        "MemberDown(EXPIRED) for an expired session",
        () ->
            watcher.events().stream()
                .anyMatch(
                    e ->
                        e.type().equals("MemberDown")
                            && e.writerId().equals(before)
                            && e.detail().equals("EXPIRED")));
    c.waitUntil(
        "the expired node comes back as a new incarnation",
        () ->
            watcher.events().stream()
                .anyMatch(
                    e ->
                        e.type().equals("MemberUp")
                            && e.memberId().equals(expired.id())
                            && !e.writerId().equals(before)));
  }

  private static boolean sawEvent(
      ClusterNode watcher, String type, ClusterNode about, String detail) {
    return watcher.events().stream()
        .anyMatch(
            e ->
                e.type().equals(type)
                    && e.writerId().equals(about.writerId())
                    && (detail == null || e.detail().equals(detail)));
  }

  /** Records of a session in the topic now, read from the beginning with a bare consumer. */
  private long countRecords(String topic, String session) {
    byte[] needle = session.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return dev.handoff.testkit.TopicRecords.count(
        env().kafkaAdminProperties(), topic, r -> contains(r.key(), needle));
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static String state(int i) {
    return "{\"session\":" + i + ",\"tick\":" + (i * 7) + ",\"players\":[\"p" + i + "\"]}";
  }
}
