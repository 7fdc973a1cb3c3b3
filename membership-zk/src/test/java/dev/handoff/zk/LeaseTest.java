package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The lease arithmetic, on an injected monotonic clock. */
class LeaseTest {

  private static final long SESSION = 0x1234L;
  private static final Duration T = Duration.ofSeconds(15);

  private final AtomicLong now = new AtomicLong(-5_000_000_000L); // nanoTime may be negative
  private final Lease lease = new Lease(now::get);

  private long at(long millis) {
    now.set(-5_000_000_000L + millis * 1_000_000L);
    return now.get();
  }

  /** Send at {@code sentMillis}, answered at {@code answeredMillis} (the clock moves there). */
  private void answered(long sentMillis, long answeredMillis) {
    long sent = at(sentMillis);
    lease.answered(SESSION, sent, at(answeredMillis));
  }

  @Test
  void theMarginIsATimeoutThirdAtLeastOneSecondAndAtMostHalfTheTimeout() {
    assertThat(Lease.margin(Duration.ofSeconds(15))).isEqualTo(Duration.ofSeconds(5));
    assertThat(Lease.length(Duration.ofSeconds(15))).isEqualTo(Duration.ofSeconds(10));
    assertThat(Lease.length(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(20));
    assertThat(Lease.margin(Duration.ofSeconds(4)))
        .isEqualTo(Duration.ofMillis(1333).plusNanos(333_333));
    assertThat(Lease.margin(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(1));
    assertThat(Lease.margin(Duration.ofMillis(1200))).isEqualTo(Duration.ofMillis(600));
    assertThat(Lease.margin(Duration.ofMillis(400))).isEqualTo(Duration.ofMillis(200));
    // Always more than a quarter of the timeout (a follower's report delay), and below it.
    for (long ms = 400; ms <= 120_000; ms += 100) {
      var t = Duration.ofMillis(ms);
      assertThat(Lease.margin(t).toNanos()).isGreaterThan(t.toNanos() / 4);
      assertThat(Lease.length(t)).isPositive();
    }
  }

  @Test
  void aNewSessionsLeaseRunsFromTheCreationOfItsClientHandle() {
    long handle = at(0);
    at(300);
    lease.onSession(SESSION, T, handle);
    assertThat(lease.holds(SESSION)).isTrue();
    assertThat(lease.remaining()).isEqualTo(Duration.ofMillis(9_700));
    at(9_999);
    assertThat(lease.holds(SESSION)).isTrue();
    at(10_000);
    assertThat(lease.holds(SESSION)).isFalse();
    assertThat(lease.remaining()).isZero();
  }

  @Test
  void eachAnswerRenewsFromTheSendTimeNotTheAnswerTime() {
    lease.onSession(SESSION, T, at(0));
    answered(3_000, 3_900); // a slow answer: the lease counts from the send
    at(12_999);
    assertThat(lease.holds(SESSION)).isTrue();
    at(13_000);
    assertThat(lease.holds(SESSION)).isFalse();
  }

  @Test
  void anAnswerToARequestSentBeforeAPauseDoesNotExtendTheLeasePastThePause() {
    lease.onSession(SESSION, T, at(0));
    answered(2_000, 2_010);
    // Sent at 5 s, then the process stops for 20 s; the answer is read when it runs again.
    answered(5_000, 25_000);
    assertThat(lease.holds(SESSION)).as("lapsed at 15 s, before the process ran again").isFalse();
  }

  @Test
  void afterALapseOneAnswerIsNotEnoughTheNextOneAMarginLaterRestartsTheLease() {
    lease.onSession(SESSION, T, at(0));
    at(11_000);
    assertThat(lease.holds(SESSION)).isFalse();
    answered(20_000, 20_050);
    assertThat(lease.holds(SESSION)).as("one answer after a lapse proves no deadline").isFalse();
    answered(23_000, 23_050); // sent less than the margin (5 s) after the first answer
    assertThat(lease.holds(SESSION)).isFalse();
    answered(25_100, 25_120); // sent a margin after the first answer arrived
    assertThat(lease.holds(SESSION)).isTrue();
    // Restarted from the first answered request (20 s), then renewed by this one (25.1 s).
    at(35_099);
    assertThat(lease.holds(SESSION)).isTrue();
    at(35_100);
    assertThat(lease.holds(SESSION)).isFalse();
  }

  @Test
  void answersOfAnotherSessionAreIgnoredAndANewSessionReplacesTheOld() {
    lease.onSession(SESSION, T, at(0));
    lease.answered(SESSION + 1, at(8_000), at(8_001));
    at(10_000);
    assertThat(lease.holds(SESSION)).isFalse();
    assertThat(lease.holds(SESSION + 1)).isFalse();

    lease.onSession(SESSION + 1, Duration.ofSeconds(4), at(10_500));
    at(10_600);
    assertThat(lease.holds(SESSION + 1)).isTrue();
    assertThat(lease.holds(SESSION)).isFalse();
    // The new session has its own timeout: 4 s - 1.33 s.
    at(10_500 + 2_666);
    assertThat(lease.holds(SESSION + 1)).isTrue();
    at(10_500 + 2_667);
    assertThat(lease.holds(SESSION + 1)).isFalse();
  }

  @Test
  void aSessionWhoseHandleTimeIsUnknownStartsLapsedUntilTwoAnswersProveIt() {
    lease.onSession(SESSION, T, null);
    assertThat(lease.holds(SESSION)).isFalse();
    answered(1_000, 1_010);
    assertThat(lease.holds(SESSION)).isFalse();
    answered(6_010, 6_020);
    assertThat(lease.holds(SESSION)).isTrue();
  }

  @Test
  void steadyHeartbeatsEveryQuarterTimeoutKeepTheLeaseWithRoomToSpare() {
    lease.onSession(SESSION, T, at(0));
    for (long t = 3_750; t <= 60_000; t += 3_750) {
      long sent = at(t);
      at(t + 100); // just before the answer: the least lease a healthy node holds
      assertThat(lease.remaining()).isEqualTo(Duration.ofMillis(10_000 - 3_750 - 100));
      lease.answered(SESSION, sent, now.get());
    }
    assertThat(lease.holds(SESSION)).isTrue();
  }
}
