package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.Member;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The end-of-test verdict of a handover scenario, from a fresh node that reads the whole log:
 *
 * <ul>
 *   <li>no session lost: every session exists;
 *   <li>none stale: a session reads as a state at least as new as any state a node took it over or
 *       kept it with (each drain that stops a session appends {@code +moved} to its state);
 *   <li>none owned by two: each live node's own view of what it owns (after it read the log to its
 *       end) agrees with the fresh node's, and no two live nodes claim the same session;
 *   <li>none left unowned while a live member exists: every session's owner is a live member;
 *   <li>none stuck: a session a node stopped for a transfer and still owns was resumed there.
 * </ul>
 */
final class HandoverVerdict {

  private HandoverVerdict() {}

  /** The state session {@code i} is stashed with before the scenario moves it. */
  static String initial(int i) {
    return "v-" + i;
  }

  static String key(int i) {
    return "s" + i;
  }

  /**
   * Checks the four properties over sessions {@code 0..sessions-1}, with {@code live} the nodes
   * that run at the end (every other node of the cluster is dead or gone).
   */
  static void check(HandoffCluster cluster, int sessions, List<ClusterNode> live) {
    var reader = (InProcessNode) cluster.addNode("verdict-reader-" + System.nanoTime());
    get(reader.read(key(0)));
    // The most times each session was seen moved: a state read later must have moved as often.
    var movedTimes = new HashMap<String, Integer>();
    for (ClusterNode n : cluster.nodes()) {
      n.moves().stream()
          .filter(m -> !m.how().equals("stopped"))
          .forEach(m -> movedTimes.merge(m.session(), timesMoved(m.state()), Math::max));
    }
    Set<String> liveWriters = new HashSet<>();
    for (Member m : reader.handoff().members()) {
      liveWriters.add(m.writerId());
    }
    for (ClusterNode n : live) {
      assertThat(liveWriters).as("%s is a live member", n).contains(n.writerId());
    }
    Map<String, String> claimedBy = new HashMap<>();
    var twice = new ArrayList<String>();
    var stuck = new ArrayList<String>();
    for (ClusterNode n : live) {
      get(n.read(key(0))); // its replica has applied every acknowledged write now
      Set<String> owned = n.ownedKeys();
      for (String k : owned) {
        String other = claimedBy.put(k, n.writerId());
        if (other != null) {
          twice.add(k + " (" + other + " and " + n.writerId() + ")");
        }
      }
      // A session this node stopped for a transfer must have run again here (kept, or handed back)
      // if it still owns it: otherwise the application never resumes it.
      Map<String, String> last = new HashMap<>();
      n.moves().forEach(m -> last.put(m.session(), m.how()));
      last.forEach(
          (k, how) -> {
            if (how.equals("stopped") && owned.contains(k)) {
              stuck.add(k + " on " + n.writerId());
            }
          });
    }
    var lost = new ArrayList<String>();
    var stale = new ArrayList<String>();
    var unowned = new ArrayList<String>();
    var disagree = new ArrayList<String>();
    for (int i = 0; i < sessions; i++) {
      String k = key(i);
      Optional<String> state = reader.peek(k);
      if (state.isEmpty()) {
        lost.add(k);
        continue;
      }
      String s = state.get();
      if (!s.startsWith(initial(i))
          || !s.substring(initial(i).length()).equals("+moved".repeat(timesMoved(s)))
          || timesMoved(s) < movedTimes.getOrDefault(k, 0)) {
        stale.add(k + "=" + s);
      }
      String owner = reader.owner(k).orElse("?");
      if (!liveWriters.contains(owner) || owner.equals(reader.writerId())) {
        unowned.add(k + " (owner " + owner + ")");
      } else if (!owner.equals(claimedBy.get(k))) {
        disagree.add(k + " (owner " + owner + ", claimed by " + claimedBy.get(k) + ")");
      }
    }
    assertThat(lost).as("sessions lost").isEmpty();
    assertThat(stale).as("sessions stale (moved, then read as before)").isEmpty();
    assertThat(twice).as("sessions two live nodes think they own").isEmpty();
    assertThat(disagree).as("sessions whose owner does not know it owns them").isEmpty();
    assertThat(unowned).as("sessions not owned by a live member").isEmpty();
    assertThat(stuck).as("sessions stopped for a transfer and never resumed").isEmpty();
    cluster.killNode(reader);
  }

  /** How many times a state was handed on: one {@code "+moved"} per drain that stopped it. */
  static int timesMoved(String state) {
    int n = 0;
    for (int i = state.indexOf("+moved"); i >= 0; i = state.indexOf("+moved", i + 1)) {
      n++;
    }
    return n;
  }

  static <T> T get(CompletableFuture<T> f) {
    return f.orTimeout(90, TimeUnit.SECONDS).join();
  }
}
