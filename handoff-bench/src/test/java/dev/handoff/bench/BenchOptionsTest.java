package dev.handoff.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void overridesApplyOnTopOfTheNamedSize() {
    var o =
        BenchOptions.parse(
            new String[] {"--sessions", "1M", "--size", "large", "--profiles", "fetch20"});
    assertThat(o.size()).isEqualTo("large");
    assertThat(o.sessions()).isEqualTo(1_000_000);
    assertThat(o.rollingSessions()).isZero();
    assertThat(o.profiles()).containsExactly(ClientProfile.FETCH_WAIT_20);
  }

  @Test
  void badOptionsAreNamedInTheError() {
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--size", "huge"}))
        .hasMessageContaining("--size")
        .hasMessageContaining("huge");
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--sessions", "-3"}))
        .hasMessageContaining("--sessions");
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--bogus", "1"}))
        .hasMessageContaining("--bogus");
    assertThatThrownBy(() -> BenchOptions.parse(new String[] {"--scenarios", "replay,nope"}))
        .hasMessageContaining("nope");
  }

  @Test
  void percentilesUseNearestRank() {
    long[] nanos = new long[100];
    for (int i = 0; i < 100; i++) {
      nanos[i] = (100 - i) * 1_000_000L;
    }
    var s = new Samples(nanos, 100);
    assertThat(s.p50()).isEqualTo(50.0);
    assertThat(s.p99()).isEqualTo(99.0);
    assertThat(s.maxMs()).isEqualTo(100.0);
    assertThat(Samples.median(new double[] {3, 1, 2, 10})).isEqualTo(2.5);
  }
}
