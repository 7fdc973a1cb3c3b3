package dev.handoff.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ReportJsonTest {

  @Test
  void resultsJsonCarriesOptionsFiguresNotesAndFailuresWithNullForMissingNumbers()
      throws Exception {
    var report = new Report(BenchOptions.ofSize("smoke"));
    report.add(Figure.plain("4 Memory", "heap per session \"live\" (bytes)", 812.5));
    report.add(
        Figure.versus("1 Replay", "records/s", 2.0e5, "bare consumer", 2.5e5, 0.8, ">=0.5", true));
    report.note("a note\nwith a line break");
    report.failure("stash fetch20", new IllegalStateException("boom"));

    String json = report.json();
    var tree = new ObjectMapper().readTree(json);

    assertThat(json).contains("\"scenario\": \"4 Memory\"");
    assertThat(tree.get("size").asText()).isEqualTo("smoke");
    assertThat(tree.get("options").get("sessions").asInt()).isEqualTo(2_000);
    assertThat(tree.get("machine").get("cores").asText()).isNotEmpty();
    var memory = tree.get("figures").get(0);
    assertThat(memory.get("measure").asText()).isEqualTo("heap per session \"live\" (bytes)");
    assertThat(memory.get("baselineValue").isNull()).isTrue();
    assertThat(memory.get("met").isNull()).isTrue();
    var replay = tree.get("figures").get(1);
    assertThat(replay.get("ratio").asDouble()).isEqualTo(0.8);
    assertThat(replay.get("ratioUnit").asText()).isEqualTo("×");
    assertThat(replay.get("met").asBoolean()).isTrue();
    assertThat(tree.get("notes").get(0).asText()).isEqualTo("a note\nwith a line break");
    assertThat(tree.get("failures").get(0).asText()).contains("boom");
  }
}
