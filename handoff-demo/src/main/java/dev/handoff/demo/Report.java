package dev.handoff.demo;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a demo run measured (immutable; {@link Demo#run(DemoOptions, java.nio.file.Path,
 * java.io.PrintStream)} returns it): the verdict counters (lost, stale, duplicated), per-session
 * pauses and the supporting numbers, and how to print them as a table.
 *
 * @param scenario one line describing the run
 * @param sessions sessions the cluster ran
 * @param handedOff sessions taken over by another node (handed over or adopted; each counted once)
 * @param lost sessions not hosted by any node at the end, or whose state was lost and recreated
 * @param stale pickups that resumed from a tick below the last acknowledged stash of the session
 * @param duplicated sessions that two node incarnations hosted at the same time
 * @param pause per-session pause: from the old host's last tick to the new host's first tick
 * @param pauseByMode the same, by how the old host was replaced ({@code drain}, {@code restart},
 *     {@code crash}; only the modes that ran)
 * @param pauseUntilDurable first part of the pause of a stashed session whose old host stopped
 *     cleanly (SIGTERM, restart): from the old host's last tick until a stash of that tick or a
 *     later one was acknowledged (0 if a periodic stash of that tick had been acknowledged already)
 * @param pauseAfterDurable second part: from then until the new host's first tick (the old host's
 *     other final stashes and its leave, the successor starting and adopting)
 * @param v1ToV2 pickups by a v2 node of a state stashed by a v1 node
 * @param levelDefaulted of those, how many read the added field {@code level} as its default 1
 * @param stashesAcked stashes acknowledged by the log, over the whole run
 * @param stashFailures stashes that failed
 * @param peeks reads of sessions hosted by other nodes (other versions during the roll)
 * @param decodeErrors of those, how many could not be decoded
 * @param pickupFailures pickups that found no state or failed for good
 * @param crashedNode the nodes killed with SIGKILL (member ids, comma-separated), or null
 * @param crashResumed sessions of the killed node resumed from their last periodic stash
 * @param crashStateAge how old that stash was when the node was killed (ms)
 * @param rolls one row per replaced node
 * @param elapsed wall time of the whole run
 * @param meters a few of the nodes' Micrometer meters
 */
public record Report(
    String scenario,
    int sessions,
    int handedOff,
    int lost,
    int stale,
    int duplicated,
    Percentiles pause,
    java.util.Map<String, Percentiles> pauseByMode,
    Percentiles pauseUntilDurable,
    Percentiles pauseAfterDurable,
    int v1ToV2,
    int levelDefaulted,
    long stashesAcked,
    long stashFailures,
    long peeks,
    long decodeErrors,
    int pickupFailures,
    String crashedNode,
    int crashResumed,
    Percentiles crashStateAge,
    List<Roll> rolls,
    Duration elapsed,
    Meters meters) {

  /**
   * A few of the nodes' Micrometer meters (handoff-micrometer), summed over every node incarnation
   * as each last reported them.
   *
   * @param stashes successful stashes ({@code handoff.stash}, outcome ok)
   * @param stashMeanMs their mean time
   * @param pickups successful pickups ({@code handoff.pickup}, outcome ok)
   * @param pickupMeanMs their mean time
   * @param fenced fenced writes ({@code handoff.writes.fenced})
   * @param skipped log records skipped ({@code handoff.records.skipped}, every reason)
   */
  public record Meters(
      long stashes,
      double stashMeanMs,
      long pickups,
      double pickupMeanMs,
      long fenced,
      long skipped) {}

  /** True if nothing was lost, stale or duplicated. */
  public boolean passed() {
    return lost == 0 && stale == 0 && duplicated == 0;
  }

  /**
   * One replaced node.
   *
   * @param member the member id of the old incarnation
   * @param mode how it was replaced: {@code drain} (a surge node started, then SIGTERM: the old
   *     node hands each session over), {@code restart} (SIGTERM: it stashes everything; then a
   *     successor with its member id starts and adopts) or {@code crash} (SIGKILL; then a successor
   *     with its member id adopts what was last stashed)
   * @param from writer id of the old incarnation
   * @param to writer id of the new node (the surge node, or the successor)
   * @param signal SIGTERM or SIGKILL
   * @param sessions sessions the old incarnation hosted when it was signalled
   * @param finalStashes of those, final stashes acknowledged before it left (stash path only)
   * @param resumed sessions of the old incarnation that another node resumed after it
   * @param rollMillis from the signal to the last of those resumed
   * @param replacementStartMillis from launching the new JVM to it being ready
   * @param stopMillis from the signal to the old incarnation stopping its first session, -1 if it
   *     never stopped cleanly
   * @param finalStashMillis how long the old incarnation's shutdown hook took to stash all its
   *     sessions and have them acknowledged, -1 if it did not (drain, crash)
   * @param exitMillis from the signal to the old process having exited, -1 if unknown
   * @param goneSeenMillis from the signal to the successor seeing the old incarnation go from the
   *     group, -1 if it did not report it (drain; a restart's predecessor left before it started)
   * @param resumedAfterReadyMillis restart and crash: from the moment the successor was ready and
   *     the predecessor gone (the later of the two) to the last session resumed; -1 for a drain
   * @param pause pauses of the sessions the old incarnation hosted
   */
  public record Roll(
      String member,
      String mode,
      String from,
      String to,
      String signal,
      int sessions,
      int finalStashes,
      int resumed,
      long rollMillis,
      long replacementStartMillis,
      long stopMillis,
      long finalStashMillis,
      long exitMillis,
      long goneSeenMillis,
      long resumedAfterReadyMillis,
      Percentiles pause) {}

  /** Nearest-rank percentiles of a sample, in milliseconds. */
  public record Percentiles(int count, double p50, double p95, double p99, double max) {
    static Percentiles of(double[] values) {
      if (values.length == 0) {
        return new Percentiles(0, 0, 0, 0, 0);
      }
      double[] v = values.clone();
      Arrays.sort(v);
      return new Percentiles(v.length, rank(v, 50), rank(v, 95), rank(v, 99), v[v.length - 1]);
    }

    private static double rank(double[] sorted, int pct) {
      int i = (int) Math.ceil(pct / 100.0 * sorted.length) - 1;
      return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
  }

  /** The report as printed at the end of a run. */
  public String table() {
    var t = new Table();
    t.rule();
    t.row("sessions total", num(sessions));
    t.row("handed off (moved or adopted)", num(handedOff));
    t.row("lost", num(lost));
    t.row("stale (tick went backwards)", num(stale));
    t.row("duplicated (hosted twice at once)", num(duplicated));
    t.row("pause per session p50", ms(pause.p50()));
    t.row("pause per session p95", ms(pause.p95()));
    t.row("pause per session p99", ms(pause.p99()));
    t.row("pause per session max", ms(pause.max()));
    for (var e : pauseByMode.entrySet()) {
      Percentiles p = e.getValue();
      t.row(
          "pause, " + e.getKey() + " (" + p.count() + ") p50 / p99 / max",
          ms(p.p50()) + " / " + ms(p.p99()) + " / " + ms(p.max()));
    }
    t.rule();
    t.row("v1 states picked up by v2 (level defaulted)", v1ToV2 + " (" + levelDefaulted + ")");
    t.row("stashes acknowledged / failed", stashesAcked + " / " + stashFailures);
    t.row("cross-version reads / decode errors", peeks + " / " + decodeErrors);
    t.row("adoptions failed", num(pickupFailures));
    t.row(
        "meters: stashes ok (mean) / pickups ok (mean)",
        num(meters.stashes())
            + " ("
            + ms(meters.stashMeanMs())
            + ") / "
            + num(meters.pickups())
            + " ("
            + ms(meters.pickupMeanMs())
            + ")");
    t.row(
        "meters: fenced writes / records skipped",
        num(meters.fenced()) + " / " + num(meters.skipped()));
    if (crashedNode != null) {
      t.row("crash: sessions resumed from periodic stash", num(crashResumed));
      t.row(
          "crash: age of that stash p50 / max",
          ms(crashStateAge.p50()) + " / " + ms(crashStateAge.max()));
    }
    t.row("run time", seconds(elapsed));
    t.rule();
    var out = new StringBuilder();
    out.append("Handoff demo report: ").append(scenario).append('\n');
    out.append(t);
    out.append('\n');
    var r = new Table();
    r.rule();
    r.cells(
        "node",
        "mode",
        "old -> new",
        "hosted",
        "resumed",
        "new ready",
        "roll",
        "after ready",
        "pause p50",
        "p99",
        "max");
    r.rule();
    for (Roll roll : rolls) {
      r.cells(
          roll.member(),
          roll.mode(),
          roll.from() + " -> " + roll.to(),
          num(roll.sessions()),
          num(roll.resumed()),
          ms(roll.replacementStartMillis()),
          roll.rollMillis() < 0 ? "-" : ms(roll.rollMillis()),
          roll.resumedAfterReadyMillis() < 0 ? "-" : ms(roll.resumedAfterReadyMillis()),
          ms(roll.pause().p50()),
          ms(roll.pause().p99()),
          ms(roll.pause().max()));
    }
    r.rule();
    out.append(r);
    out.append(
        "roll: from the old node's signal to the last of its sessions resumed elsewhere;"
            + " after ready: from the successor\nbeing ready and its predecessor gone to that"
            + " last resume (restart, crash); new ready: the new JVM's\nstart and replay of the"
            + " log (for a drain, before the signal).\n");
    if (crashedNode != null) {
      out.append(
          String.format(
              Locale.ROOT,
              "%nNote: %s killed with SIGKILL. Its sessions resumed from their last acknowledged"
                  + " periodic stash,%nso going back to that tick is expected there and is not"
                  + " counted as stale; stale means a pickup%nolder than an acknowledged stash.%n",
              crashedNode + (crashedNode.contains(",") ? " were" : " was")));
    }
    out.append(
        String.format(
            Locale.ROOT,
            "%nRESULT: %s (%d lost, %d stale, %d duplicated)%n",
            passed() ? "PASS" : "FAIL",
            lost,
            stale,
            duplicated));
    return out.toString();
  }

  private static String num(long n) {
    return Long.toString(n);
  }

  private static String ms(double millis) {
    return millis >= 1000
        ? String.format(Locale.ROOT, "%.2f s", millis / 1000)
        : String.format(Locale.ROOT, "%.0f ms", millis);
  }

  private static String seconds(Duration d) {
    long s = d.toSeconds();
    return s >= 60 ? (s / 60) + " min " + (s % 60) + " s" : s + " s";
  }

  /** A plain-text table: rows of cells, left-aligned first column, right-aligned others. */
  private static final class Table {
    private final List<String[]> rows = new java.util.ArrayList<>();

    void rule() {
      rows.add(null);
    }

    void row(String label, String value) {
      rows.add(new String[] {label, value});
    }

    void cells(String... cells) {
      rows.add(cells);
    }

    @Override
    public String toString() {
      int cols = rows.stream().filter(r -> r != null).mapToInt(r -> r.length).max().orElse(0);
      int[] w = new int[cols];
      for (String[] r : rows) {
        if (r != null) {
          for (int i = 0; i < r.length; i++) {
            w[i] = Math.max(w[i], r[i].length());
          }
        }
      }
      var sb = new StringBuilder();
      for (String[] r : rows) {
        if (r == null) {
          sb.append('+');
          for (int width : w) {
            sb.append("-".repeat(width + 2)).append('+');
          }
        } else {
          sb.append('|');
          for (int i = 0; i < cols; i++) {
            String c = i < r.length ? r[i] : "";
            String pad = " ".repeat(w[i] - c.length());
            sb.append(' ').append(i == 0 ? c + pad : pad + c).append(" |");
          }
        }
        sb.append('\n');
      }
      return sb.toString();
    }
  }
}
