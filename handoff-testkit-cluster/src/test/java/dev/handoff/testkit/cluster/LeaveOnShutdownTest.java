package dev.handoff.testkit.cluster;

import static dev.handoff.testkit.cluster.HandoverVerdict.get;
import static dev.handoff.testkit.cluster.HandoverVerdict.initial;
import static dev.handoff.testkit.cluster.HandoverVerdict.key;
import static org.assertj.core.api.Assertions.assertThat;

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
 * {@code StateHandoff.leaveOnShutdown(budget, mover)} under a real SIGTERM, with the node in its
 * own JVM: with a RUNNING peer it drains every session into it before it leaves; alone it stashes
 * every session at its stopped state, and a successor with its member id adopts them.
 */
class LeaveOnShutdownTest {
  static final int SESSIONS = 400;

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

  private static void stashAll(ClusterNode node) {
    var acks = new ArrayList<CompletableFuture<Void>>();
    for (int i = 0; i < SESSIONS; i++) {
      acks.add(node.stash(key(i), initial(i)));
    }
    acks.forEach(HandoverVerdict::get);
  }

  private static boolean sawLeave(ClusterNode watcher, String writerId) {
    return watcher.events().stream()
        .anyMatch(
            e ->
                e.type().equals("MemberDown")
                    && e.writerId().equals(writerId)
                    && e.detail().equals("LEFT"));
  }

  @Test
  void aTerminatedNodeWithARunningPeerDrainsEverySessionIntoItThenLeaves() {
    cluster = HandoffCluster.builder().environment(env).start();
    var nodes = cluster.addProcessNodes(HandoffCluster.OnShutdown.MOVE_SESSIONS, "leaving", "peer");
    var leaving = nodes.get(0);
    var peer = nodes.get(1);
    stashAll(leaving);
    String gone = leaving.writerId();
    cluster.waitUntil(
        "the leaving node sees its peer RUNNING",
        () ->
            leaving.events().stream()
                .anyMatch(
                    e -> e.writerId().equals(peer.writerId()) && e.detail().equals("RUNNING")));

    cluster.stopNode(leaving); // SIGTERM; returns once the process has exited

    assertThat(leaving.isAlive()).isFalse();
    cluster.waitUntil("the peer saw it leave", () -> sawLeave(peer, gone));
    assertThat(peer.moves())
        .filteredOn(m -> m.how().equals("handover"))
        .hasSize(SESSIONS)
        .allSatisfy(m -> assertThat(m.state()).endsWith("+moved"));
    assertThat(ownedAfterReadingToTheEnd(peer)).hasSize(SESSIONS);
    HandoverVerdict.check(cluster, SESSIONS, List.of(peer));
  }

  @Test
  void aTerminatedNodeAloneStashesEverySessionAndItsSuccessorAdoptsThem() {
    cluster = HandoffCluster.builder().environment(env).start();
    var alone = cluster.addProcessNode("pod-0", HandoffCluster.OnShutdown.MOVE_SESSIONS);
    stashAll(alone);

    cluster.stopNode(alone); // SIGTERM: no RUNNING peer, so it stashes what it owns and leaves
    var successor = cluster.addProcessNode("pod-0", HandoffCluster.OnShutdown.MOVE_SESSIONS);
    var adoption = get(successor.adopt("pod-0", Duration.ofSeconds(60)));

    assertThat(alone.isAlive()).isFalse();
    assertThat(adoption.adopted()).isEqualTo(SESSIONS);
    assertThat(successor.moves())
        .filteredOn(m -> m.how().equals("adopted"))
        .hasSize(SESSIONS)
        .allSatisfy(m -> assertThat(m.state()).endsWith("+moved")); // the stopped state, stashed
    HandoverVerdict.check(cluster, SESSIONS, List.of(successor));
  }

  /** What {@code node} owns once it has read the log to its end (its own claims included). */
  private static java.util.Set<String> ownedAfterReadingToTheEnd(ClusterNode node) {
    get(node.read(key(0)));
    return node.ownedKeys();
  }
}
