package dev.handoff.bench;

import dev.handoff.StateHandoff;
import java.util.Locale;

/**
 * Issue 16 item 5: one node offered stashes faster than it takes them. Its sustained rate is
 * measured first (a closed loop with the stash scenario's bound in flight); then stashes are
 * offered open loop, whatever comes back, at 1× and at 2× that rate over the same sessions. Under
 * overload a node should keep accepting about what it sustains, refuse the rest at once with {@code
 * Overloaded}, and keep the latency of what it accepts bounded; the rows compare 2× with 1×.
 */
final class OverloadScenario {
  private static final String SCENARIO = "6 Overload";
  private final Bench bench;

  OverloadScenario(Bench bench) {
    this.bench = bench;
  }

  void run() {
    var o = bench.options;
    double seconds = seconds(o.size());
    int keys = o.stashKeys();
    String[] sessions = new String[keys];
    for (int i = 0; i < keys; i++) {
      sessions[i] = Bench.key("o", i);
    }
    StateHandoff<byte[]> node =
        bench.node("bench-overload", "overloaded", ClientProfile.LIBRARY_DEFAULTS);
    try {
      node.start().join();
      Pipelined.run(keys, o.inFlight(), i -> node.stash(sessions[i], bench.value(i)))
          .requireNoFailures("claiming the overload sessions");
      // What it sustains: as fast as it acknowledges, with the usual bound in flight.
      Pipelined closed =
          Pipelined.run(
                  o.stashes(),
                  o.inFlight(),
                  i -> node.stash(sessions[i % keys], bench.value(keys + (long) i)))
              .requireNoFailures("measuring the sustained stash rate");
      double rate = closed.perSecond();
      long base = keys + (long) o.stashes();
      OpenLoop at1 =
          OpenLoop.run(
              rate, seconds, i -> node.stash(sessions[(int) (i % keys)], bench.value(base + i)));
      long base2 = base + at1.offered();
      OpenLoop at2 =
          OpenLoop.run(
              2 * rate,
              seconds,
              i -> node.stash(sessions[(int) (i % keys)], bench.value(base2 + i)));
      for (OpenLoop run : new OpenLoop[] {at1, at2}) {
        if (run.failed() > 0) {
          throw new IllegalStateException(
              run.failed() + " stashes failed with other than Overloaded", run.firstFailure());
        }
      }
      var rep = bench.report;
      rep.add(
          Figure.versus(
                  SCENARIO,
                  String.format(
                      Locale.ROOT,
                      "accepted stashes/s at 2× offered load (refused ones not counted; offered"
                          + " %.2f× the sustained rate)",
                      at2.offeredPerSecond() / rate),
                  at2.acceptedPerSecond(),
                  "the same node at 1× (offered at the rate it sustains)",
                  at1.acceptedPerSecond(),
                  at2.acceptedPerSecond() / at1.acceptedPerSecond(),
                  "",
                  null)
              .withId("overload.accepted_stashes_per_s"));
      rep.add(
          Figure.versus(
                  SCENARIO,
                  "ack latency p99 of accepted stashes at 2×, ms",
                  at2.latencies().p99(),
                  "at 1×",
                  at1.latencies().p99(),
                  at2.latencies().p99() / at1.latencies().p99(),
                  "",
                  null)
              .withId("overload.ack_p99_ms"));
      rep.add(
          Figure.versus(
                  SCENARIO,
                  "refused with Overloaded, % of offered at 2×",
                  100.0 * at2.refused() / at2.offered(),
                  "at 1×",
                  100.0 * at1.refused() / Math.max(1, at1.offered()),
                  Double.NaN,
                  "",
                  null)
              .withId("overload.refused_percent"));
      rep.note(
          String.format(
              Locale.ROOT,
              "Overload: one node (library defaults) over %,d owned sessions of %d B; sustained"
                  + " %,.0f stashes/s with %d in flight (closed loop, %,d stashes); then open loop"
                  + " for %.0f s each: 1× offered %,.0f/s, accepted %,.0f/s, refused %,d, ack p50"
                  + " %.2f ms p99 %.2f ms; 2× offered %,.0f/s, accepted %,.0f/s, refused %,d, ack"
                  + " p50 %.2f ms p99 %.2f ms. No stash failed with anything but Overloaded.",
              keys,
              o.valueBytes(),
              rate,
              o.inFlight(),
              o.stashes(),
              seconds,
              at1.offeredPerSecond(),
              at1.acceptedPerSecond(),
              at1.refused(),
              at1.latencies().p50(),
              at1.latencies().p99(),
              at2.offeredPerSecond(),
              at2.acceptedPerSecond(),
              at2.refused(),
              at2.latencies().p50(),
              at2.latencies().p99()));
    } finally {
      Bench.closeQuietly(node);
    }
  }

  private static double seconds(String size) {
    return switch (size) {
      case "smoke" -> 2;
      case "large" -> 30;
      default -> 10;
    };
  }
}
