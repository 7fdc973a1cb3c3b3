package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.retry.RetryUntilElapsed;
import org.junit.jupiter.api.Test;

class RegistrationRetriesTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  private void advanceMillis(long millis) {
    nanos.addAndGet(millis * 1_000_000L);
  }

  @Test
  void retriesAsOftenAndAsLateAsThePolicySaysThenGivesUp() {
    var retries = new RegistrationRetries(() -> new RetryNTimes(2, 50), nanos::get);
    retries.firstAttempt();
    assertThat(retries.afterFailure()).hasValue(50);
    assertThat(retries.afterFailure()).hasValue(50);
    assertThat(retries.afterFailure()).isEmpty();
    assertThat(retries.attempts()).isEqualTo(3);
  }

  @Test
  void aNewSequenceOfAttemptsIsCountedFromZero() {
    var retries = new RegistrationRetries(() -> new RetryNTimes(1, 10), nanos::get);
    retries.firstAttempt();
    assertThat(retries.afterFailure()).hasValue(10);
    assertThat(retries.afterFailure()).isEmpty();
    retries.firstAttempt();
    assertThat(retries.attempts()).isEqualTo(1);
    assertThat(retries.afterFailure()).hasValue(10);
  }

  @Test
  void elapsedTimeIsMeasuredFromTheFirstAttemptOfTheSequence() {
    var retries = new RegistrationRetries(() -> new RetryUntilElapsed(1000, 100), nanos::get);
    retries.firstAttempt();
    advanceMillis(900);
    assertThat(retries.afterFailure()).hasValue(100);
    advanceMillis(200);
    assertThat(retries.afterFailure()).isEmpty();
    retries.firstAttempt();
    assertThat(retries.afterFailure()).hasValue(100);
  }

  @Test
  void exponentialBackoffDelaysStayWithinThePolicysBounds() {
    var retries =
        new RegistrationRetries(() -> new ExponentialBackoffRetry(100, 4, 300), nanos::get);
    retries.firstAttempt();
    for (int i = 0; i < 4; i++) {
      assertThat(retries.afterFailure().orElseThrow()).isBetween(100L, 300L);
    }
    assertThat(retries.afterFailure()).isEmpty();
  }

  @Test
  void thePolicyInForceIsAskedForEachRetry() {
    var policy = new java.util.concurrent.atomic.AtomicReference<>(new RetryNTimes(5, 10));
    var retries = new RegistrationRetries(policy::get, nanos::get);
    retries.firstAttempt();
    assertThat(retries.afterFailure()).hasValue(10);
    policy.set(new RetryNTimes(5, 70));
    assertThat(retries.afterFailure()).hasValue(70);
  }
}
