package dev.handoff.zk;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RegistrationBackoffTest {

  private final AtomicLong nanos = new AtomicLong(123_456_789L);
  private final RegistrationBackoff backoff = new RegistrationBackoff(nanos::get);

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  @Test
  void theFirstLossReRegistersAtOnceAndQuickLossesInARowWaitLongerEachTimeUpToACap() {
    var delays = new ArrayList<Duration>();
    for (int i = 0; i < 9; i++) {
      backoff.registered();
      advance(Duration.ofSeconds(7)); // expires every 7 s, as in the storm of issue 16
      delays.add(backoff.lost());
    }
    assertThat(delays)
        .containsExactly(
            Duration.ZERO,
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(4),
            Duration.ofSeconds(8),
            Duration.ofSeconds(16),
            Duration.ofSeconds(30),
            Duration.ofSeconds(30),
            Duration.ofSeconds(30));
    assertThat(backoff.quickLosses()).isEqualTo(9);
  }

  @Test
  void aRegistrationThatLastedAMinuteResetsTheCount() {
    backoff.registered();
    advance(Duration.ofSeconds(1));
    backoff.lost();
    backoff.registered();
    advance(Duration.ofSeconds(1));
    assertThat(backoff.lost()).isEqualTo(Duration.ofSeconds(1));

    backoff.registered();
    advance(RegistrationBackoff.STABLE);
    assertThat(backoff.lost()).isZero();
    assertThat(backoff.quickLosses()).isEqualTo(1);
  }

  @Test
  void aLossWithoutARegistrationDoesNotCount() {
    assertThat(backoff.lost()).isZero();
    backoff.registered();
    assertThat(backoff.lost()).isZero();
    assertThat(backoff.lost()).isZero();
    assertThat(backoff.quickLosses()).isEqualTo(1);
  }
}
