package dev.handoff.testkit.cluster.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.testkit.cluster.history.Anomaly.Kind;
import dev.handoff.testkit.cluster.history.HistoryChecker.Ending;
import dev.handoff.testkit.cluster.history.Op.Outcome;
import dev.handoff.testkit.cluster.history.Op.Type;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The checker on hand-made histories: a clean one passes, each kind of anomaly is reported. */
class HistoryCheckerTest {
  private static final String A = "node-1#100";
  private static final String B = "node-2#200";
  private static final String A_LATER = "node-1#300";
  private static final String READER = "reader#400";
  private static final String K = "game-1";

  private final List<Op> ops = new ArrayList<>();
  private long seq;

  @Test
  void aCleanHistoryWithAHandoverUnknownOutcomesAndAnEndHasNoAnomalies() {
    stash(A, "1a", null, 0, 1);
    stash(A, "2a", "1a", 2, 3);
    stash(A, "3a", "2a", 4, 6);
    // A stalls with 4a in flight; its membership is lost, so the write is refused.
    failedStash(A, "4a", "3a", 7, 5_001, "Fenced");
    // B's pickup overlaps A's last ok stash's ack and returns it: that stash came first.
    pickup(B, "3a", 5, 5_050);
    stash(B, "4b", "3a", 5_060, 5_062);
    read(A, "4b", 5_070, 5_080);
    unknownStash(B, "5b", "4b", 5_100); // never completed: may or may not count
    read(READER, "4b", 5_200, 5_210); // it did not (yet)
    read(READER, "5b", 5_300, 5_310); // now it did
    stash(B, "6b", "5b", 5_400, 5_401);
    // A later incarnation of A's member re-claims by stashing; that is not a zombie.
    pickup(A, "6b", 6_000, 6_010); // fails over to A again
    stash(A_LATER, "7a", "6b", 6_020, 6_021);
    read(READER, "7a", 7_000, 7_001);
    // A second session, created and ended; it then reads as absent.
    stash(B, "1b", null, 100, 101, "game-2");
    end(B, "game-2", 200, 201);
    read(READER, null, 300, 301, "game-2");

    var report =
        HistoryChecker.check(
            ops,
            new Ending(Set.of(A_LATER, B, READER), Map.of(K, A_LATER), Map.of(A_LATER, Set.of(K))));

    assertThat(report.anomalies()).isEmpty();
  }

  @Test
  void aStashAcknowledgedBeforeAPickupThatMissesItIsALostWrite() {
    stash(A, "1a", null, 0, 1);
    stash(A, "2a", "1a", 2, 3);
    pickup(B, "1a", 10, 12); // invoked after 2a's ack, returns the value before it
    read(READER, null, 20, 21, "game-2"); // an unrelated session...
    stash(A, "1x", null, 0, 1, "game-3");
    read(READER, null, 30, 31, "game-3"); // ...and one that reads absent though never ended

    var report = check();

    assertThat(report.counts()).containsEntry(Kind.LOST_WRITE, 2);
    assertThat(report.anomalies())
        .filteredOn(a -> a.kind() == Kind.LOST_WRITE)
        .extracting(a -> a.ops().get(0).written())
        .containsExactlyInAnyOrder("2a", "1x");
    assertThat(only(report, Kind.LOST_WRITE)).isTrue();
  }

  @Test
  void aStalledOwnersStashesAcknowledgedAfterAnotherNodesPickupAreZombieWrites() {
    // Issue 13 item 1: A is paused with 4a in flight; B picks up 3a; A resumes, 4a is acked, and
    // A stashes 5a before it learns it lost its membership.
    stash(A, "1a", null, 0, 1);
    stash(A, "2a", "1a", 2, 3);
    stash(A, "3a", "2a", 4, 5);
    stash(A, "4a", "3a", 6, 9_000);
    pickup(B, "3a", 5_000, 5_050);
    stash(B, "4b", "3a", 5_100, 5_101);
    stash(A, "5a", "4a", 9_001, 9_003);
    read(READER, "4b", 20_000, 20_001);

    var report = check();

    assertThat(report.anomalies())
        .filteredOn(a -> a.kind() == Kind.ZOMBIE_WRITE)
        .extracting(a -> a.ops().get(0).written())
        .containsExactlyInAnyOrder("4a", "5a");
    // The final read shows both are gone, and A and B both acked writes after 3a.
    assertThat(report.counts())
        .containsEntry(Kind.ZOMBIE_WRITE, 2)
        .containsEntry(Kind.LOST_WRITE, 2)
        .containsEntry(Kind.TWO_OWNERS, 1)
        .containsEntry(Kind.PHANTOM_READ, 0);
  }

  @Test
  void concurrentOkStashesOfTwoWritersOnOneValueAreTwoOwners() {
    stash(A, "1a", null, 0, 1);
    stash(A, "2a", "1a", 10, 30);
    stash(B, "2b", "1a", 12, 28); // B never picked up: it just believed it owned the session

    var report = check();

    assertThat(report.counts()).containsEntry(Kind.TWO_OWNERS, 1);
    assertThat(report.anomalies().get(0).detail()).contains("diverged");
    assertThat(only(report, Kind.TWO_OWNERS)).isTrue();
  }

  @Test
  void anOkStashBetweenTwoOkStashesOfAnotherWriterIsTwoOwners() {
    // A's later incarnation takes over by stashing (a re-claim), yet the old one keeps writing.
    stash(A, "1a", null, 0, 1);
    stash(A_LATER, "2c", "1a", 10, 11);
    stash(A_LATER, "3c", "2c", 20, 21);
    stash(A, "2a", "1a", 30, 31);

    var report = check();

    assertThat(report.counts()).containsEntry(Kind.TWO_OWNERS, 1);
    assertThat(only(report, Kind.TWO_OWNERS)).isTrue();
  }

  @Test
  void interleavedButSingleLineageStashesAreTwoOwners() {
    // The values form one chain, yet real time shows B wrote while A still owned the session.
    stash(A, "1a", null, 0, 1);
    stash(B, "2b", "1a", 10, 11);
    stash(A, "3a", "2b", 20, 21);

    var report = check();

    assertThat(report.counts()).containsEntry(Kind.TWO_OWNERS, 1);
    assertThat(report.anomalies().get(0).detail()).contains("lies between");
    assertThat(only(report, Kind.TWO_OWNERS)).isTrue();
  }

  @Test
  void sessionsOwnedByAGoneWriterOrByANodeThatDoesNotHostThemAreUnowned() {
    stash(A, "1a", null, 0, 1);
    stash(B, "1b", null, 0, 1, "game-2");
    stash(B, "1c", null, 0, 1, "game-3");
    read(READER, "1a", 10, 11);
    read(READER, "1b", 10, 11, "game-2");
    read(READER, "1c", 10, 11, "game-3");

    var report =
        HistoryChecker.check(
            ops,
            new Ending(
                Set.of(B, READER),
                Map.of(K, A, "game-2", B, "game-3", B),
                Map.of(B, Set.of("game-3"))));

    assertThat(report.anomalies())
        .extracting(Anomaly::kind, Anomaly::key)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(Kind.UNOWNED, K),
            org.assertj.core.groups.Tuple.tuple(Kind.UNOWNED, "game-2"));
  }

  @Test
  void aValueNeverWrittenOrWrittenByAFencedStashIsAPhantomRead() {
    stash(A, "1a", null, 0, 1);
    failedStash(A, "2a", "1a", 2, 3, "Fenced");
    read(B, "2a", 10, 11);
    read(B, "9z", 20, 21);

    var report = check();

    assertThat(report.counts()).containsEntry(Kind.PHANTOM_READ, 2);
    assertThat(only(report, Kind.PHANTOM_READ)).isTrue();
  }

  @Test
  void aSessionFoundAfterItsEndIsResurrected() {
    stash(A, "1a", null, 0, 1);
    end(A, K, 2, 3);
    pickup(B, "1a", 10, 11);

    var report = check();

    assertThat(report.counts()).containsEntry(Kind.RESURRECTED, 1);
    assertThat(only(report, Kind.RESURRECTED)).isTrue();
  }

  @Test
  void aStashAcknowledgedAfterTheSessionEndedIsAZombieWrite() {
    stash(B, "1b", null, 0, 1);
    end(B, K, 2, 3);
    stash(A, "2a", "1b", 10, 11); // A held the session before B took it, and never learned

    var report = check();

    assertThat(report.anomalies())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.kind()).isEqualTo(Kind.ZOMBIE_WRITE);
              assertThat(a.detail()).contains("ended");
            });
  }

  @Test
  void writeOutcomesThatPromiseNothingAreNotRequiredToBeSeen() {
    stash(A, "1a", null, 0, 1);
    unknownStash(A, "2a", "1a", 2);
    op(A, Type.STASH, K, "3a", "2a", 3, 4, Outcome.FAIL, "HandoffException"); // a log error
    read(B, "1a", 10, 11);
    read(B, "3a", 12, 13); // the stash that failed with a log error did count: allowed

    var report = check();

    assertThat(report.anomalies()).isEmpty();
  }

  // ------------------------------------------------------------------ a small history language

  private HistoryChecker.Report check() {
    return HistoryChecker.check(ops, new Ending(Set.of(), Map.of(), Map.of()));
  }

  private static boolean only(HistoryChecker.Report report, Kind kind) {
    var others = new EnumMap<>(report.counts());
    others.remove(kind);
    return others.values().stream().allMatch(n -> n == 0);
  }

  private void stash(String w, String value, String base, double from, double to, String... key) {
    op(w, Type.STASH, key(key), value, base, from, to, Outcome.OK, null);
  }

  private void failedStash(
      String w, String value, String base, double from, double to, String error) {
    op(w, Type.STASH, K, value, base, from, to, Outcome.FAIL, error);
  }

  private void unknownStash(String w, String value, String base, double from) {
    op(w, Type.STASH, K, value, base, from, Double.NaN, Outcome.UNKNOWN, null);
  }

  private void pickup(String w, String returned, double from, double to, String... key) {
    op(w, Type.PICKUP, key(key), null, null, from, to, Outcome.OK, returned);
  }

  private void read(String w, String returned, double from, double to, String... key) {
    op(w, Type.READ, key(key), null, null, from, to, Outcome.OK, returned);
  }

  private void end(String w, String key, double from, double to) {
    op(w, Type.END, key, null, null, from, to, Outcome.OK, null);
  }

  private static String key(String[] key) {
    return key.length == 0 ? K : key[0];
  }

  /** Times in ms; NaN for "never completed". */
  private void op(
      String writer,
      Type type,
      String key,
      String written,
      String base,
      double from,
      double to,
      Outcome outcome,
      String result) {
    ops.add(
        new Op(
            writer.substring(0, writer.indexOf('#')),
            ++seq,
            writer,
            type,
            key,
            written,
            base,
            (long) (from * 1e6),
            Double.isNaN(to) ? Long.MAX_VALUE : (long) (to * 1e6),
            outcome,
            result));
  }
}
