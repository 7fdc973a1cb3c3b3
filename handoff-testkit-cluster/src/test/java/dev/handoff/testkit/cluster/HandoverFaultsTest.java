package dev.handoff.testkit.cluster;

import static dev.handoff.testkit.cluster.HandoverVerdict.get;
import static dev.handoff.testkit.cluster.HandoverVerdict.initial;
import static dev.handoff.testkit.cluster.HandoverVerdict.key;
import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.Drain;
import dev.handoff.testkit.EmbeddedEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Faults in the middle of a drain, on real Kafka and ZooKeeper with every node in its own JVM: the
 * sender killed with {@code kill -9}, the receiver killed, the receiver's ZooKeeper session
 * expired, a receiver that refuses, two senders draining into one receiver, and a broker restart.
 * Each ends with the {@link HandoverVerdict}: no session lost, none stale, none owned by two, none
 * left unowned while a live member exists. Where a member died, the survivors do what an
 * application does then: adopt the dead member's sessions once it is gone.
 *
 * <p>{@value #SESSIONS_PROPERTY} sets the sessions per test (default 600; e.g. 5000 for a longer
 * run). Each session's stop on the sender waits {@link #STOP_DELAY}, so that a drain lasts long
 * enough for a fault to land in its middle.
 */
class HandoverFaultsTest {
  static final String SESSIONS_PROPERTY = "handoff.faults.sessions";
  static final int SESSIONS = Integer.getInteger(SESSIONS_PROPERTY, 600);
  static final Duration STOP_DELAY = Duration.ofMillis(4);
  static final Duration BUDGET = Duration.ofSeconds(90);

  private static EmbeddedEnvironment env;
  private HandoffCluster cluster;

  @BeforeAll
  static void startServers() {
    env = EmbeddedEnvironment.builder().kafkaBrokers(1).zookeeperServers(1).start();
  }

  @AfterAll
  static void stopServers() {
    env.close();
  }

  @AfterEach
  void closeCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private HandoffCluster cluster() {
    cluster = HandoffCluster.builder().environment(env).partitions(6).start();
    return cluster;
  }

  /** {@code node} stashes sessions {@code from..to-1} and has every acknowledgement. */
  private static void stashAll(ClusterNode node, int from, int to) {
    var acks = new ArrayList<CompletableFuture<Void>>();
    for (int i = from; i < to; i++) {
      acks.add(node.stash(key(i), initial(i)));
    }
    acks.forEach(HandoverVerdict::get);
  }

  private void awaitRunning(ClusterNode watcher, ClusterNode... others) {
    for (ClusterNode o : others) {
      cluster.waitUntil(
          watcher.id() + " sees " + o.id() + " RUNNING",
          () ->
              watcher.events().stream()
                  .anyMatch(
                      e ->
                          e.writerId().equals(o.writerId())
                              && (e.type().equals("MemberChanged") || e.type().equals("MemberUp"))
                              && e.detail().equals("RUNNING")));
    }
  }

  private static long handedOver(ClusterNode n) {
    return n.moves().stream().filter(m -> m.how().equals("handover")).count();
  }

  private void awaitGone(ClusterNode watcher, String writerId) {
    cluster.waitUntil(
        watcher.id() + " sees " + writerId + " go",
        Duration.ofSeconds(60),
        () ->
            watcher.events().stream()
                .anyMatch(e -> e.type().equals("MemberDown") && e.writerId().equals(writerId)));
  }

  @Test
  void aSenderKilledMidDrainLosesNothingAndTheReceiverAdoptsTheRestOnceItIsGone() {
    var c = cluster();
    var nodes = c.addProcessNodes(HandoffCluster.OnShutdown.LEAVE, "sender", "receiver");
    var sender = nodes.get(0);
    var receiver = nodes.get(1);
    stashAll(sender, 0, SESSIONS);
    awaitRunning(sender, receiver);

    sender.drain("receiver", BUDGET, STOP_DELAY);
    c.waitUntil("a sixth has moved", () -> handedOver(receiver) >= SESSIONS / 6);
    String dead = sender.writerId();
    c.killNode(sender);
    awaitGone(receiver, dead);
    var adoption = get(receiver.adopt("sender", BUDGET));

    assertThat(handedOver(receiver)).isLessThan(SESSIONS);
    assertThat(adoption.adopted()).isPositive();
    assertThat(adoption.failed()).isZero();
    HandoverVerdict.check(c, SESSIONS, List.of(receiver));
  }

  @Test
  void aReceiverKilledMidDrainLosesNothingTheSenderMovesTheRestToTheOtherOne() {
    var c = cluster();
    var nodes = c.addProcessNodes(HandoffCluster.OnShutdown.LEAVE, "sender", "r1", "r2");
    var sender = nodes.get(0);
    var r1 = nodes.get(1);
    var r2 = nodes.get(2);
    stashAll(sender, 0, SESSIONS);
    awaitRunning(sender, r1, r2);

    var drain = sender.drain(null, BUDGET, STOP_DELAY);
    c.waitUntil("r1 took a tenth", () -> handedOver(r1) >= SESSIONS / 10);
    String dead = r1.writerId();
    c.killNode(r1);
    Drain.Result result = get(drain);
    awaitGone(r2, dead);
    var adoption = get(r2.adopt("r1", BUDGET));

    assertThat(result.failed()).isZero();
    assertThat(adoption.failed()).isZero();
    HandoverVerdict.check(c, SESSIONS, List.of(sender, r2));
  }

  @Test
  void aReceiverWhoseZooKeeperSessionExpiresMidDrainLosesNothingAndAdoptsItsEarlierSelf() {
    var c = cluster();
    var nodes = c.addProcessNodes(HandoffCluster.OnShutdown.LEAVE, "sender", "r1", "r2");
    var sender = nodes.get(0);
    var r1 = nodes.get(1);
    var r2 = nodes.get(2);
    stashAll(sender, 0, SESSIONS);
    awaitRunning(sender, r1, r2);

    var drain = sender.drain(null, BUDGET, STOP_DELAY);
    c.waitUntil("r1 took a tenth", () -> handedOver(r1) >= SESSIONS / 10);
    String before = r1.writerId();
    c.expireSession(r1);
    c.waitUntil("r1 re-registers", () -> !r1.writerId().equals(before));
    // What the application does on REREGISTERED: take back what its earlier incarnation owned.
    var adoption = get(r1.adopt("r1", BUDGET));
    Drain.Result result = get(drain);

    assertThat(adoption.failed()).isZero();
    assertThat(result.failed()).isZero();
    HandoverVerdict.check(c, SESSIONS, List.of(sender, r1, r2));
  }

  @Test
  void aReceiverThatRefusesLeavesEverySessionWithTheSenderUntilItAccepts() {
    var c = cluster();
    var nodes = c.addProcessNodes(HandoffCluster.OnShutdown.LEAVE, "sender", "receiver");
    var sender = nodes.get(0);
    var receiver = nodes.get(1);
    int n = Math.min(SESSIONS, 200);
    stashAll(sender, 0, n);
    awaitRunning(sender, receiver);
    receiver.acceptHandovers(false);

    Drain.Result refused = get(sender.drain("receiver", BUDGET, Duration.ZERO));

    assertThat(refused.kept()).isEqualTo(n);
    assertThat(handedOver(receiver)).isZero();
    assertThat(ownedAfterReadingToTheEnd(sender)).hasSize(n);
    HandoverVerdict.check(c, n, List.of(sender, receiver));

    receiver.acceptHandovers(true);
    Drain.Result accepted = get(sender.drain("receiver", BUDGET, Duration.ZERO));

    assertThat(accepted.moved()).isEqualTo(n);
    assertThat(ownedAfterReadingToTheEnd(receiver)).hasSize(n);
    HandoverVerdict.check(c, n, List.of(sender, receiver));
  }

  @Test
  void twoSendersDrainingIntoOneReceiverMoveEverySessionOnce() {
    var c = cluster();
    var nodes = c.addProcessNodes(HandoffCluster.OnShutdown.LEAVE, "s1", "s2", "receiver");
    var s1 = nodes.get(0);
    var s2 = nodes.get(1);
    var receiver = nodes.get(2);
    stashAll(s1, 0, SESSIONS / 2);
    stashAll(s2, SESSIONS / 2, SESSIONS);
    awaitRunning(s1, receiver);
    awaitRunning(s2, receiver);

    var d1 = s1.drain("receiver", BUDGET, Duration.ZERO);
    var d2 = s2.drain("receiver", BUDGET, Duration.ZERO);

    assertThat(get(d1).moved()).isEqualTo(SESSIONS / 2);
    assertThat(get(d2).moved()).isEqualTo(SESSIONS - SESSIONS / 2);
    assertThat(receiver.moves()).extracting(ObservedMove::session).doesNotHaveDuplicates();
    assertThat(ownedAfterReadingToTheEnd(receiver)).hasSize(SESSIONS);
    HandoverVerdict.check(c, SESSIONS, List.of(s1, s2, receiver));
  }

  @Test
  void aDrainDuringABrokerRestartLosesNothingAndLeavesEverySessionWithALiveNode() {
    var c = cluster();
    var nodes = c.addProcessNodes(HandoffCluster.OnShutdown.LEAVE, "sender", "receiver");
    var sender = nodes.get(0);
    var receiver = nodes.get(1);
    stashAll(sender, 0, SESSIONS);
    awaitRunning(sender, receiver);

    var drain = sender.drain("receiver", BUDGET, STOP_DELAY);
    c.waitUntil("a tenth has moved", () -> handedOver(receiver) >= SESSIONS / 10);
    c.restartBroker(0);
    Drain.Result result = get(drain);

    assertThat(result.moved() + result.kept() + result.failed() + result.remaining())
        .isEqualTo(SESSIONS);
    HandoverVerdict.check(c, SESSIONS, List.of(sender, receiver));
  }

  /** What {@code node} owns once it has read the log to its end (its own claims included). */
  private static java.util.Set<String> ownedAfterReadingToTheEnd(ClusterNode node) {
    get(node.read(key(0)));
    return node.ownedKeys();
  }
}
