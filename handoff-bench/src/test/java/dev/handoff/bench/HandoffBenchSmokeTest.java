package dev.handoff.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs the whole benchmark at the smoke size (seconds, on a real embedded broker and ZooKeeper) so
 * CI notices when the benchmark code stops working. The numbers themselves are not checked: only
 * that every scenario produced them.
 */
class HandoffBenchSmokeTest {

  @Test
  void everyScenarioProducesFiguresAndBothResultFilesAreWritten() throws Exception {
    Path out = Path.of("target", "bench-smoke");
    Report report = HandoffBench.run(BenchOptions.ofSize("smoke").withOutDir(out));

    assertThat(report.failures()).isEmpty();
    for (String scenario :
        List.of(
            "1 Replay",
            "2 Stash",
            "3 Handoff latency",
            "4 Memory",
            "5 Rolling deploy",
            "6 Overload")) {
      List<Figure> figures =
          report.figures().stream().filter(f -> f.scenario().equals(scenario)).toList();
      assertThat(figures).as(scenario).isNotEmpty();
      for (Figure f : figures) {
        assertThat(Double.isFinite(f.handoff())).as(scenario + ": " + f.measure()).isTrue();
        if (!f.baseline().isEmpty()) {
          assertThat(Double.isFinite(f.baselineValue())).as(f.measure()).isTrue();
          if (!"overload.refused_percent".equals(f.id())) { // two shares: no ratio
            assertThat(Double.isFinite(f.ratio())).as(f.measure()).isTrue();
          }
        }
        assertThat(f.met() != null).as(f.measure()).isEqualTo(!f.target().isEmpty());
      }
    }
    // The rolling deploy ran its three ways and found nothing lost, stale or duplicated in any.
    assertThat(report.figures())
        .filteredOn(f -> f.scenario().equals("5 Rolling deploy") && f.target().equals("0"))
        .hasSize(9)
        .allSatisfy(f -> assertThat(f.handoff()).as(f.measure()).isZero());
    assertThat(report.figures())
        .filteredOn(f -> f.measure().contains("/s"))
        .allSatisfy(f -> assertThat(f.handoff()).as(f.measure()).isPositive());
    assertThat(Files.readString(out.resolve("bench-results.md")))
        .contains("| 1 Replay |", "| 5 Rolling deploy |");
    assertThat(Files.readString(out.resolve("bench-results.json")))
        .contains("\"figures\"", "\"scenario\": \"2 Stash\"")
        .contains(
            "\"id\": \"rolling.drain.pause_p99_ms\"",
            "\"id\": \"rolling.restart.pause_p99_ms\"",
            "\"id\": \"rolling.stash_pickup.pause_p99_ms\"",
            "\"id\": \"latency.plain_p99_ms\"",
            "\"id\": \"overload.accepted_stashes_per_s\"",
            "\"id\": \"overload.ack_p99_ms\"",
            "\"id\": \"replay.node_vs_tuned_bare\"",
            "\"id\": \"replay.derived_bare_vs_tuned_bare\"",
            "\"id\": \"replay.node_vs_gkt_mem_tuned\"");
  }
}
