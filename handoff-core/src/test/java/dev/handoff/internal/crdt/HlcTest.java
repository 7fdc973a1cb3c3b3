package dev.handoff.internal.crdt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HlcTest {

  private final AtomicLong wall = new AtomicLong(1_000);
  private final Hlc clock = new Hlc(wall::get);

  @Test
  void followsTheWallClockAndCountsWithinAMillisecond() {
    long a = clock.now();
    long b = clock.now();
    assertThat(Hlc.physicalMillis(a)).isEqualTo(1_000);
    assertThat(Hlc.logical(a)).isZero();
    assertThat(Hlc.logical(b)).isEqualTo(1);
    wall.set(2_000);
    assertThat(clock.now()).isEqualTo(Hlc.of(2_000, 0));
  }

  @Test
  void neverGoesBackWhenTheWallClockDoes() {
    long before = clock.now();
    wall.set(500);
    assertThat(clock.now()).isGreaterThan(before);
    assertThat(Hlc.physicalMillis(clock.now())).isEqualTo(1_000);
  }

  @Test
  void staysAheadOfARemoteClockThatRunsFast() {
    long remote = Hlc.of(9_000, 7);
    assertThat(clock.update(remote)).isEqualTo(Hlc.of(9_000, 8));
    assertThat(clock.now()).isEqualTo(Hlc.of(9_000, 9));
    assertThat(Hlc.format(Hlc.of(0, 3))).isEqualTo("1970-01-01T00:00:00Z+3");
  }
}
