package dev.handoff.bench;

import dev.handoff.demo.Demo;
import dev.handoff.demo.DemoOptions;
import dev.handoff.demo.Report;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Item 5: the demo's rolling deploy ({@code handoff-demo}), on this benchmark's broker and
 * ZooKeeper. Three {@code GameNode} JVMs host the sessions at v1 and tick them; each node in turn
 * is replaced by a v2 JVM with the same member id, started first (a surge of one) and replaying the
 * log, then the old JVM gets a real SIGTERM: its shutdown hook stops the game timer, stashes every
 * session, waits for the acknowledgements and leaves; the replacement picks the sessions up and
 * resumes them. The demo's ledger timestamps every session's last tick on the old node and first
 * tick on the new one, and checks that no session was lost, resumed from an older tick than its
 * last acknowledged stash, or hosted twice at once; any of those fails the scenario.
 */
final class RollingScenario {
  private static final String SCENARIO = "5 Rolling deploy";
  static final int NODES = 3;
  private final Bench bench;

  RollingScenario(Bench bench) {
    this.bench = bench;
  }

  void run() {
    var o = bench.options;
    boolean smoke = o.size().equals("smoke");
    // The smoke size plays briefly, like the demo's own CI test; other sizes use the demo's
    // defaults (3 s of play before the roll, 2 s after each replacement).
    List<String> args =
        new ArrayList<>(
            List.of(
                "--nodes",
                Integer.toString(NODES),
                "--sessions",
                Integer.toString(o.rollingSessions()),
                "--state-size",
                Integer.toString(o.valueBytes()),
                "--kafka",
                bench.bootstrap(),
                "--zookeeper",
                bench.env.zookeeperConnect(),
                "--partitions",
                Integer.toString(o.partitions()),
                // Everything else is the demo's defaults: ZooKeeper session timeout, a stash of
                // every session every second (what the nodes cannot send coalesces or is refused
                // as Overloaded), node heaps sized from the sessions.
                "--warmup-ms",
                smoke ? "1000" : "3000",
                "--settle-ms",
                smoke ? "300" : "2000"));
    DemoOptions demo = DemoOptions.parse(args.toArray(String[]::new));
    Path runDir = bench.tmp.resolve("rolling-demo");
    System.out.println("  rolling deploy: handoff-demo " + String.join(" ", args));
    Report r = Demo.run(demo, runDir, System.out);

    var rep = bench.report;
    String what =
        String.format(
            Locale.ROOT,
            "%d node JVMs, %,d sessions in total, SIGTERM roll v1 → v2",
            demo.nodes(),
            demo.sessions());
    rep.add(Figure.plain(SCENARIO, "pause per session, p50 ms (" + what + ")", r.pause().p50()));
    rep.add(Figure.plain(SCENARIO, "pause per session, p95 ms", r.pause().p95()));
    rep.add(Figure.plain(SCENARIO, "pause per session, p99 ms", r.pause().p99()));
    rep.add(Figure.plain(SCENARIO, "pause per session, max ms", r.pause().max()));
    rep.add(
        Figure.plain(
            SCENARIO,
            "breakdown: last tick → its final stash acknowledged, p50 ms",
            r.pauseUntilDurable().p50()));
    rep.add(
        Figure.plain(
            SCENARIO,
            "breakdown: last tick → its final stash acknowledged, p99 ms",
            r.pauseUntilDurable().p99()));
    rep.add(
        Figure.plain(
            SCENARIO,
            "breakdown: final stash acknowledged → first tick on the successor, p50 ms",
            r.pauseAfterDurable().p50()));
    rep.add(
        Figure.plain(
            SCENARIO,
            "breakdown: final stash acknowledged → first tick on the successor, p99 ms",
            r.pauseAfterDurable().p99()));
    // One node's handover, median over the replaced nodes (each a timeline of its own).
    perNode(rep, r, "SIGTERM → its game timer stopped", Report.Roll::stopMillis);
    perNode(
        rep,
        r,
        "final stashes of all its sessions acknowledged, took",
        Report.Roll::finalStashMillis);
    perNode(rep, r, "SIGTERM → successor sees it gone from the group", Report.Roll::goneSeenMillis);
    perNode(rep, r, "SIGTERM → successor has read the log up to then", Report.Roll::caughtUpMillis);
    perNode(
        rep, r, "SIGTERM → its last session resumed on the successor", Report.Roll::handoffMillis);
    rep.add(zero("sessions lost", r.lost()));
    rep.add(zero("sessions stale (resumed before the last acknowledged stash)", r.stale()));
    rep.add(zero("sessions duplicated (hosted twice at once)", r.duplicated()));
    rep.note(note(r, demo));

    var problems = new ArrayList<String>();
    if (!r.passed()) {
      problems.add(r.lost() + " lost, " + r.stale() + " stale, " + r.duplicated() + " duplicated");
    }
    if (r.pickupFailures() > 0) {
      problems.add(r.pickupFailures() + " pickups failed");
    }
    if (r.handedOff() != demo.sessions()) {
      problems.add(r.handedOff() + " of " + demo.sessions() + " sessions handed off");
    }
    if (r.pause().count() == 0) {
      problems.add("no pause was measured");
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          "rolling deploy FAILED: "
              + String.join(", ", problems)
              + " (node logs in "
              + runDir
              + ")\n"
              + r.table());
    }
  }

  private static void perNode(
      dev.handoff.bench.Report rep,
      Report r,
      String what,
      java.util.function.ToLongFunction<Report.Roll> millis) {
    double[] v =
        r.rolls().stream().mapToLong(millis).filter(m -> m >= 0).asDoubleStream().toArray();
    if (v.length > 0) {
      rep.add(Figure.plain(SCENARIO, "one node: " + what + ", median ms", Samples.median(v)));
    }
  }

  private static Figure zero(String measure, int count) {
    return new Figure(
        SCENARIO, measure, count, "", Double.NaN, Double.NaN, "", "0", count == 0, "");
  }

  private static String note(Report r, DemoOptions demo) {
    var sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "Rolling deploy: handoff-demo's orchestrator on this run's broker and ZooKeeper (%s);"
                + " %d GameNode JVMs (-Xmx%dm, SerialGC), %,d sessions in total (~%,d per node),"
                + " states ~%d B, tick %d ms, periodic stash every %d ms, ZooKeeper session"
                + " timeout %d ms, %d partitions; each replacement JVM starts and replays the log"
                + " before the old one gets SIGTERM (surge of one). Node clients: the demo's"
                + " settings (library defaults plus consumer fetch.max.wait.ms=25), not the"
                + " bench's profiles. Pause = old node's last tick → new node's first tick of the"
                + " same session (node clocks, one machine). %,d sessions handed off, %,d stashes"
                + " acknowledged, %d failed, %d pickups failed, %,d cross-version reads (%d decode"
                + " errors), run %d s.",
            r.scenario(),
            demo.nodes(),
            demo.nodeHeapMegabytes(),
            demo.sessions(),
            (demo.sessions() + demo.nodes() - 1) / demo.nodes(),
            demo.stateSize(),
            demo.tickMillis(),
            demo.stashMillis(),
            demo.sessionTimeoutMillis(),
            demo.partitions(),
            r.handedOff(),
            r.stashesAcked(),
            r.stashFailures(),
            r.pickupFailures(),
            r.peeks(),
            r.decodeErrors(),
            r.elapsed().toSeconds()));
    sb.append(" Per node:");
    for (Report.Roll roll : r.rolls()) {
      sb.append(
          String.format(
              Locale.ROOT,
              " %s → %s: %,d sessions, %,d final stashes acknowledged, %,d picked up; replacement"
                  + " JVM ready in %.1f s; from SIGTERM: timer stopped %d ms, final stashes"
                  + " took %d ms, successor saw it gone %d ms, had read the log %d ms, last"
                  + " session resumed %d ms;",
              roll.from(),
              roll.to(),
              roll.sessions(),
              roll.finalStashes(),
              roll.pickedUp(),
              roll.replacementStartMillis() / 1000.0,
              roll.stopMillis(),
              roll.finalStashMillis(),
              roll.goneSeenMillis(),
              roll.caughtUpMillis(),
              roll.handoffMillis()));
    }
    sb.setLength(sb.length() - 1);
    sb.append('.');
    return sb.toString();
  }
}
