package dev.handoff.demo;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The live status line, once a second: phase, the node being rolled, sessions hosted, stopped,
 * stashed, resumed elsewhere and in flight. On a terminal the line is rewritten in place (carriage
 * return only); in a log (CI) each update is a line of its own.
 */
final class ProgressDisplay implements AutoCloseable {
  private final PrintStream out;
  private final Ledger ledger;
  private final int sessions;
  private final boolean terminal;
  private final long t0 = System.nanoTime();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "demo-progress");
            t.setDaemon(true);
            return t;
          });

  private volatile String phase = "starting";
  private volatile NodeProcess old;
  private volatile NodeProcess replacement;
  private long lastAcks;
  private int lastLength;

  ProgressDisplay(PrintStream out, Ledger ledger, int sessions, boolean terminal) {
    this.out = out;
    this.ledger = ledger;
    this.sessions = sessions;
    this.terminal = terminal;
    timer.scheduleAtFixedRate(this::show, 1, 1, TimeUnit.SECONDS);
  }

  /** A new phase: printed at once, on a line of its own. */
  synchronized void phase(String phase, NodeProcess old, NodeProcess replacement) {
    this.phase = phase;
    this.old = old;
    this.replacement = replacement;
    endLine();
    out.printf(Locale.ROOT, "%7.1fs  == %s%n", elapsed(), phase);
  }

  /** The replacement node of the current roll, once launched. */
  void replacement(NodeProcess replacement) {
    this.replacement = replacement;
  }

  /** A message on a line of its own. */
  synchronized void note(String message) {
    endLine();
    out.printf(Locale.ROOT, "%7.1fs     %s%n", elapsed(), message);
  }

  private synchronized void show() {
    Ledger.Progress p = ledger.progress(old, replacement);
    long acksPerSecond = p.acks() - lastAcks;
    lastAcks = p.acks();
    var line = new StringBuilder();
    line.append(String.format(Locale.ROOT, "%7.1fs  %-14s", elapsed(), shortPhase()));
    line.append(String.format(Locale.ROOT, " | hosted %d/%d", p.hosted(), sessions));
    if (old != null) {
      line.append(
          String.format(
              Locale.ROOT,
              " | %s stopped %d/%d, stashed %d | resumed elsewhere %d/%d",
              old.memberId(),
              p.stopped(),
              p.oldHosting(),
              p.stashed(),
              p.resumed(),
              p.oldHosting()));
    }
    line.append(String.format(Locale.ROOT, " | in flight %d", sessions - p.hosted()));
    line.append(String.format(Locale.ROOT, " | stash acks/s %d", acksPerSecond));
    if (terminal) {
      String s = line.toString();
      out.print("\r" + s + " ".repeat(Math.max(0, lastLength - s.length())));
      lastLength = s.length();
    } else {
      out.println(line);
    }
    out.flush();
  }

  private String shortPhase() {
    String p = phase;
    int colon = p.indexOf(':');
    return colon > 0 ? p.substring(0, colon) : p;
  }

  private void endLine() {
    if (terminal && lastLength > 0) {
      out.println();
      lastLength = 0;
    }
  }

  private double elapsed() {
    return (System.nanoTime() - t0) / 1e9;
  }

  @Override
  public synchronized void close() {
    timer.shutdownNow();
    endLine();
  }
}
