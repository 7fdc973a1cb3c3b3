package dev.handoff.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's verdicts from hand-made timelines: each failure kind is detected, and only it. */
class LedgerTest {

  record Node(
      String memberId,
      String version,
      String writerId,
      String signal,
      long signalledMicros,
      long startMillis)
      implements Incarnation {}

  private static final String S = "game-0001";
  private final Node old = new Node("node-1", "v1", "node-1#1", "SIGTERM", 1_900, 0);
  private final Node next = new Node("node-1", "v2", "node-1#2", null, 0, 0);
  private final Ledger ledger = new Ledger(1);

  private void oldHostsAndStops(long stopTick, long stopAt) {
    ledger.accept(old, new NodeMessage.Hosting(S, false, 0, 0, 0));
    ledger.accept(old, new NodeMessage.Acked(S, 10, 1_000));
    ledger.signalled(old);
    ledger.accept(old, new NodeMessage.Stopped(S, stopTick, stopAt, "shutdown"));
    ledger.accept(old, new NodeMessage.Acked(S, stopTick, stopAt + 100));
  }

  private Report report(Map<String, List<String>> hostedAtEnd) {
    return ledger.report(
        "test", hostedAtEnd, List.of(new Ledger.Replacement(old, next)), Duration.ZERO);
  }

  @Test
  void aCleanHandoffIsNeitherLostNorStaleNorDuplicatedAndItsPauseIsStopToFirstTick() {
    oldHostsAndStops(12, 2_000);
    ledger.accept(next, new NodeMessage.Gone(old.writerId(), 3_900));
    ledger.accept(next, new NodeMessage.Hosting(S, true, 12, 1, 2_500));

    Report r = report(Map.of(S, List.of(next.writerId())));

    assertThat(r.passed()).isTrue();
    // signalled at 1,900 µs: the successor saw it gone 2 ms later
    assertThat(r.rolls().get(0).goneSeenMillis()).isEqualTo(2);
    assertThat(r.rolls().get(0).resumed()).isEqualTo(1);
    assertThat(r.pauseByMode()).containsOnlyKeys("restart");
    assertThat(r.handedOff()).isEqualTo(1);
    assertThat(r.pause().max()).isEqualTo(0.5);
    // stopped at 2,000 µs, final stash acknowledged at 2,100, first tick on the successor at 2,500
    assertThat(r.pauseUntilDurable().max()).isEqualTo(0.1);
    assertThat(r.pauseAfterDurable().max()).isEqualTo(0.4);
    assertThat(r.rolls().get(0).stopMillis()).isZero(); // 100 µs after the signal
    assertThat(r.v1ToV2()).isEqualTo(1);
    assertThat(r.levelDefaulted()).isEqualTo(1);
    assertThat(r.rolls().get(0).finalStashes()).isEqualTo(1);
  }

  @Test
  void aDrainedSessionPausesFromItsOwnStopToItsFirstTickOnTheReceiverAndCountsAsDrain() {
    Node surge = new Node("node-4", "v2", "node-4#3", null, 0, 0);
    ledger.accept(old, new NodeMessage.Hosting(S, false, 0, 0, 0));
    ledger.accept(old, new NodeMessage.Acked(S, 10, 1_000));
    ledger.signalled(old, "drain");
    ledger.accept(old, new NodeMessage.Stopped(S, 12, 2_000, "moving"));
    ledger.accept(surge, new NodeMessage.Hosting(S, true, 12, 1, 2_007));
    ledger.exited(old, 9_000);

    Report r =
        ledger.report(
            "test",
            Map.of(S, List.of(surge.writerId())),
            List.of(new Ledger.Replacement(old, surge, "drain")),
            Duration.ZERO);

    assertThat(r.passed()).isTrue();
    assertThat(ledger.handedOn(old)).isEqualTo(1);
    assertThat(r.pauseByMode()).containsOnlyKeys("drain");
    assertThat(r.pauseByMode().get("drain").max()).isEqualTo(0.007);
    Report.Roll roll = r.rolls().get(0);
    assertThat(roll.mode()).isEqualTo("drain");
    assertThat(roll.resumed()).isEqualTo(1);
    assertThat(roll.resumedAfterReadyMillis()).isEqualTo(-1);
    assertThat(roll.exitMillis()).isEqualTo(7);
    assertThat(r.pauseUntilDurable().count()).as("no stash in a drain").isZero();
  }

  @Test
  void aLastTickAlreadyStashedPeriodicallyIsDurableWhenTheNodeStops() {
    ledger.accept(old, new NodeMessage.Hosting(S, false, 0, 0, 0));
    ledger.accept(old, new NodeMessage.Acked(S, 10, 1_000));
    ledger.signalled(old);
    ledger.accept(old, new NodeMessage.Stopped(S, 10, 2_000, "shutdown"));
    ledger.accept(old, new NodeMessage.Acked(S, 10, 2_300));
    ledger.accept(next, new NodeMessage.Hosting(S, true, 10, 1, 2_500));

    Report r = report(Map.of(S, List.of(next.writerId())));

    assertThat(r.pauseUntilDurable().max()).isZero();
    assertThat(r.pauseAfterDurable().max()).isEqualTo(0.5);
  }

  @Test
  void aPickupOlderThanAnAcknowledgedStashIsStale() {
    oldHostsAndStops(12, 2_000);
    ledger.accept(next, new NodeMessage.Hosting(S, true, 10, 1, 2_500));

    Report r = report(Map.of(S, List.of(next.writerId())));

    assertThat(r.stale()).isEqualTo(1);
    assertThat(r.passed()).isFalse();
  }

  @Test
  void aReplacementTickingBeforeTheOldHostStoppedIsADuplicate() {
    oldHostsAndStops(12, 2_000);
    ledger.accept(next, new NodeMessage.Hosting(S, true, 10, 1, 1_500));

    assertThat(report(Map.of(S, List.of(next.writerId()))).duplicated()).isEqualTo(1);
  }

  @Test
  void twoNodesHostingTheSessionAtTheEndIsADuplicate() {
    ledger.accept(old, new NodeMessage.Hosting(S, false, 0, 0, 0));

    Report r = report(Map.of(S, List.of(old.writerId(), next.writerId())));

    assertThat(r.duplicated()).isEqualTo(1);
  }

  @Test
  void aSessionNobodyHostsAtTheEndIsLost() {
    oldHostsAndStops(12, 2_000);

    assertThat(report(Map.of()).lost()).isEqualTo(1);
  }

  @Test
  void aSessionCreatedAgainAfterItWasHostedIsLost() {
    oldHostsAndStops(12, 2_000);
    ledger.accept(next, new NodeMessage.Hosting(S, false, 0, 1, 2_500));

    assertThat(report(Map.of(S, List.of(next.writerId()))).lost()).isEqualTo(1);
  }

  @Test
  void afterACrashResumingFromTheLastAcknowledgedStashIsNotStale() {
    Node killed = new Node("node-1", "v1", "node-1#1", "SIGKILL", 2_900, 0);
    ledger.accept(killed, new NodeMessage.Hosting(S, false, 0, 0, 0));
    ledger.accept(killed, new NodeMessage.Acked(S, 10, 1_000));
    ledger.signalled(killed);
    ledger.exited(killed, 3_000);
    ledger.accept(next, new NodeMessage.Hosting(S, true, 10, 1, 6_000));

    Report r =
        ledger.report(
            "test",
            Map.of(S, List.of(next.writerId())),
            List.of(new Ledger.Replacement(killed, next)),
            Duration.ZERO);

    assertThat(r.passed()).isTrue();
    assertThat(r.crashedNode()).isEqualTo("node-1");
    assertThat(r.crashResumed()).isEqualTo(1);
    assertThat(r.crashStateAge().max()).isEqualTo(2.0);
    assertThat(r.pause().max()).isEqualTo(3.0);
  }
}
