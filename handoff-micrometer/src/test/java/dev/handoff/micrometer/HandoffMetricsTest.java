package dev.handoff.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.HandoffException;
import dev.handoff.OperationRecorder.Operation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HandoffMetricsTest {

  private static HandoffMetrics metrics() {
    return HandoffMetrics.builder().topic("t").group("g").member("m").tag("version", "v2").build();
  }

  @Test
  void eachOutcomeIsItsOwnTimerAndFencedWritesAreCounted() {
    var registry = new SimpleMeterRegistry();
    var metrics = metrics();
    metrics.bindTo(registry);
    metrics.record(Operation.STASH, 2_000_000, null);
    metrics.record(Operation.STASH, 1_000_000, new HandoffException.Fenced("owned by n#2"));
    metrics.record(Operation.END, 1_000_000, new HandoffException.Fenced("owned by n#2"));
    metrics.record(Operation.PICKUP, 1_000_000, new HandoffException.Fenced("lost membership"));
    metrics.record(Operation.PICKUP, 1_000_000, new IllegalStateException("log failed"));

    var ok = registry.get("handoff.stash").tag("outcome", "ok").timer();
    assertThat(ok.count()).isEqualTo(1);
    assertThat(ok.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(2.0);
    assertThat(ok.getId().getTag("version")).isEqualTo("v2");
    assertThat(registry.get("handoff.stash").tag("outcome", "fenced").timer().count()).isEqualTo(1);
    assertThat(registry.get("handoff.pickup").tag("outcome", "failed").timer().count())
        .isEqualTo(1);
    // Only stashes and ends are writes.
    assertThat(registry.get("handoff.writes.fenced").counter().count()).isEqualTo(2);
  }

  @Test
  void outcomesNameEveryRefusal() {
    assertThat(HandoffMetrics.outcomeOf(new HandoffException.Timeout("t"))).isEqualTo("timeout");
    assertThat(HandoffMetrics.outcomeOf(new HandoffException.NotReady("n"))).isEqualTo("not-ready");
    assertThat(HandoffMetrics.outcomeOf(new HandoffException.Left("l"))).isEqualTo("left");
    assertThat(HandoffMetrics.outcomeOf(new HandoffException("log"))).isEqualTo("failed");
  }

  @Test
  void theBuilderNamesMissingAndRepeatedOptions() {
    assertThatThrownBy(() -> HandoffMetrics.builder().topic("t").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("group")
        .hasMessageContaining("member");
    assertThatThrownBy(() -> HandoffMetrics.builder().topic("t").topic("u"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("topic was already set to t");
    assertThatThrownBy(() -> HandoffMetrics.builder().member(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("member");
  }
}
