package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.internal.crdt.ClaimOutcome;
import dev.handoff.internal.crdt.Hlc;
import dev.handoff.internal.crdt.Replica;
import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * I6: over 10,000 random operations by writers that keep dying and being replaced, every replica's
 * metadata stays bounded by the live sessions (plus sessions ended within the retention) and the
 * live writers, not by history.
 */
class MetadataBoundTest {

  private static final long RETENTION_MILLIS = 200;
  private static final int WRITERS = 3;

  @Property(tries = 3)
  void metadataStaysBoundedByLiveSessionsAndLiveWriters(@ForAll long seed) {
    var sim = new Cluster(new Random(seed));
    for (int step = 1; step <= 10_000; step++) {
      sim.step();
      if (step % 100 == 0) {
        sim.cleanup();
        sim.checkBounds(step);
      }
    }
    assertThat(sim.sessionsStarted).as("sessions started").isGreaterThan(1_500);
    assertThat(sim.writersRetired).as("writers retired").isGreaterThan(100);
    assertThat(sim.claimsLost).as("claims lost in races").isGreaterThan(10);
  }

  private static final class Node {
    final String writer;
    final Replica replica;
    final long[] position;

    Node(String writer, Replica replica, int partitions) {
      this.writer = writer;
      this.replica = replica;
      this.position = new long[partitions];
    }
  }

  private static final class Cluster {
    final Random random;
    final InMemoryDeltaLog log = new InMemoryDeltaLog(4);
    final DeltaLog appender = log.open();
    final List<Node> nodes = new ArrayList<>();
    final Node observer;
    final Set<String> live = new HashSet<>();
    final Map<String, Long> endedAt = new HashMap<>();
    long now = 1_000_000;
    int nextSession;
    int nextIncarnation;
    int sessionsStarted;
    int writersRetired;
    int claimsLost;

    Cluster(Random random) {
      this.random = random;
      observer = newNode("observer#0");
      for (int i = 0; i < WRITERS; i++) {
        nodes.add(newNode("n" + i + "#" + nextIncarnation++));
      }
    }

    Node newNode(String writer) {
      var node = new Node(writer, new Replica(new Hlc(() -> now)), log.partitions());
      deliver(node, log.entries());
      return node;
    }

    void step() {
      now++;
      int dice = random.nextInt(100);
      Node node = nodes.get(random.nextInt(nodes.size()));
      String session = randomLive();
      if (dice < 30 && session != null && owner(session) != null) {
        Node owner = owner(session);
        append(owner.replica.stash(session, owner.writer, value()));
      } else if (dice < 50) {
        String fresh = "k" + nextSession++;
        append(node.replica.stash(fresh, node.writer, value()));
        live.add(fresh);
        sessionsStarted++;
      } else if (dice < 68 && session != null && owner(session) != null) {
        Node owner = owner(session);
        append(owner.replica.end(session, owner.writer));
        live.remove(session);
        endedAt.put(session, now);
      } else if (dice < 78 && session != null) {
        // a pickup, sometimes raced by a second claimant that read the same state
        Node second = nodes.get(random.nextInt(nodes.size()));
        SlotRecord a = node.replica.claim(session, node.writer, null);
        SlotRecord b = dice < 73 ? second.replica.claim(session, second.writer, null) : null;
        long offA = append(a);
        if (b != null && second != node) {
          long offB = append(b);
          if (second.replica.claimOutcome(session, second.writer, offB)
              instanceof ClaimOutcome.Lost) {
            claimsLost++;
          }
        }
        assertThat(node.replica.claimOutcome(session, node.writer, offA))
            .isInstanceOf(ClaimOutcome.Won.class);
        reassert(node, session);
      } else if (dice < 81) {
        churn(node);
      }
    }

    /** A node dies; every replica retires it; its replacement picks up what it owned. */
    void churn(Node dead) {
      nodes.remove(dead);
      writersRetired++;
      for (Node n : all()) {
        n.replica.retireWriter(dead.writer);
      }
      String id = dead.writer.substring(0, dead.writer.indexOf('#'));
      Node replacement = newNode(id + "#" + nextIncarnation++);
      nodes.add(replacement);
      // what StateHandoff does once replay is done: writers that are not members are dead
      var members = new HashSet<String>();
      nodes.forEach(n -> members.add(n.writer));
      var seen = new HashSet<>(replacement.replica.writers());
      seen.addAll(replacement.replica.versionVector().keySet());
      seen.removeAll(members);
      seen.forEach(replacement.replica::retireWriter);
      for (String s : replacement.replica.sessions()) {
        if (replacement.replica.owner(s).orElseThrow().equals(dead.writer)) {
          append(replacement.replica.claim(s, replacement.writer, null));
          reassert(replacement, s);
        }
      }
    }

    /**
     * What StateHandoff does after a won claim: write the state again under the new epoch, so the
     * slots before the claim may go.
     */
    void reassert(Node winner, String session) {
      append(winner.replica.stash(session, winner.writer, winner.replica.value(session).get()));
    }

    /** What StateHandoff does periodically: append the tombstones each replica suggests. */
    void cleanup() {
      for (Node n : nodes) {
        for (String s : n.replica.knownSessions()) {
          for (SlotRecord t : n.replica.slotsToTombstone(s, n.writer, now, RETENTION_MILLIS)) {
            append(t);
          }
        }
      }
      long end = 0;
      for (int p = 0; p < log.partitions(); p++) {
        end = Math.max(end, log.endOffset(p));
      }
      log.compact(end, Math.max(0, end - 50));
    }

    void checkBounds(int step) {
      endedAt.values().removeIf(t -> t + RETENTION_MILLIS <= now);
      int sessions = live.size() + endedAt.size();
      for (Node n : all()) {
        String at = "step " + step + ", " + n.writer + ": " + sessions + " sessions";
        assertThat(n.replica.knownSessions().size()).as(at).isLessThanOrEqualTo(sessions);
        assertThat(n.replica.slotCount()).as(at).isLessThanOrEqualTo(sessions);
        assertThat(n.replica.tombstoneMarkerCount()).as(at).isZero();
        assertThat(n.replica.versionVector().size()).as(at).isLessThanOrEqualTo(WRITERS);
        assertThat(n.replica.metadataBytes())
            .as(at)
            .isLessThanOrEqualTo(300L * sessions + 500L * WRITERS);
      }
    }

    List<Node> all() {
      var all = new ArrayList<>(nodes);
      all.add(observer);
      return all;
    }

    Node owner(String session) {
      String w = observer.replica.owner(session).orElse(null);
      for (Node n : nodes) {
        if (n.writer.equals(w)) {
          return n;
        }
      }
      return null;
    }

    String randomLive() {
      if (live.isEmpty()) {
        return null;
      }
      int i = random.nextInt(live.size());
      for (String s : live) {
        if (i-- == 0) {
          return s;
        }
      }
      throw new AssertionError();
    }

    byte[] value() {
      var v = new byte[1 + random.nextInt(8)];
      random.nextBytes(v);
      return v;
    }

    long append(SlotRecord r) {
      LogPosition p = appender.append(r).join();
      List<LogEntry> entries = log.entries();
      for (Node n : all()) {
        deliver(n, entries);
      }
      return p.offset();
    }

    /** Log-ordered delivery to a node, then what a reader does after each batch. */
    void deliver(Node n, List<LogEntry> entries) {
      for (LogEntry e : entries) {
        if (e.offset() >= n.position[e.partition()]) {
          n.replica.apply(e);
          n.position[e.partition()] = e.offset() + 1;
        }
      }
      for (int p = 0; p < n.position.length; p++) {
        n.position[p] = Math.max(n.position[p], log.endOffset(p));
        n.replica.forgetTombstonesBefore(p, n.position[p]);
      }
      n.replica.markCaughtUp();
    }
  }
}
