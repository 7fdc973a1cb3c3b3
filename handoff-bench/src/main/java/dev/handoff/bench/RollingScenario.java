package dev.handoff.bench;

import dev.handoff.MemberEvent;
import dev.handoff.StateHandoff;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Item 5, simplified: three in-process nodes own the sessions; each in turn is replaced. Its
 * successor (a new member, started first, as with a surge of one) waits for the old node's {@code
 * MemberDown}, then picks up every session the old member owned ({@code keysOwnedBy}). The old node
 * stops by stashing every session it hosts and leaving. A session's pause runs from the moment its
 * node stops (before the final stash) to the moment its pickup completes on the successor.
 */
final class RollingScenario {
  private static final String SCENARIO = "5 Rolling deploy";
  private static final int NODES = 3;
  private final Bench bench;

  RollingScenario(Bench bench) {
    this.bench = bench;
  }

  void run(ClientProfile profile) throws Exception {
    int total = bench.options.rollingSessions();
    int inFlight = bench.options.inFlight();
    String topic = "bench-rolling-" + profile.id();
    String tag = " [" + profile.label() + "]";
    List<StateHandoff<byte[]>> nodes = new ArrayList<>();
    List<StateHandoff<byte[]>> all = new ArrayList<>();
    long[] pauses = new long[total];
    int pauseCount = 0;
    var breakdown = new StringBuilder();
    double[] handover = new double[NODES];
    try {
      for (int i = 0; i < NODES; i++) {
        var node = bench.node(topic, "game-" + (i + 1), profile);
        nodes.add(node);
        all.add(node);
      }
      CompletableFuture.allOf(
              nodes.stream().map(StateHandoff::start).toArray(CompletableFuture[]::new))
          .join();
      for (int i = 0; i < NODES; i++) {
        var node = nodes.get(i);
        int first = i;
        int count = (total - i + NODES - 1) / NODES;
        Pipelined.run(
                count, inFlight, j -> node.stash(sessionKey(first + j * NODES), bench.value(0)))
            .requireNoFailures("starting the rolling sessions");
      }
      for (int round = 0; round < NODES; round++) {
        StateHandoff<byte[]> old = nodes.get(round);
        String oldId = old.self().id();
        var oldGone = new CompletableFuture<Long>();
        long t0 = System.nanoTime();
        StateHandoff<byte[]> next = bench.node(topic, "game-" + (round + 1) + "-v2", profile);
        all.add(next);
        next.onMemberEvent(
            e -> {
              if (e instanceof MemberEvent.MemberDown d && d.member().id().equals(oldId)) {
                oldGone.complete(System.nanoTime());
              }
            });
        next.start().join();
        long successorStart = System.nanoTime() - t0;

        List<String> hosted = new ArrayList<>(old.ownedKeys());
        long stamp = 100 + round;
        long stop = System.nanoTime();
        Pipelined.run(hosted.size(), inFlight, j -> old.stash(hosted.get(j), bench.value(stamp)))
            .requireNoFailures("final stash of " + oldId);
        long stashed = System.nanoTime();
        old.leave().get(60, TimeUnit.SECONDS);
        long left = System.nanoTime();
        long seen = oldGone.get(60, TimeUnit.SECONDS);
        List<String> toTake = new ArrayList<>(next.keysOwnedBy(oldId));
        if (toTake.size() != hosted.size()) {
          throw new IllegalStateException(
              "successor sees "
                  + toTake.size()
                  + " sessions of "
                  + oldId
                  + ", expected "
                  + hosted.size());
        }
        long[] done = new long[toTake.size()];
        var stale = new AtomicLong();
        Pipelined.run(
                toTake.size(),
                inFlight,
                j ->
                    next.pickup(toTake.get(j))
                        .thenAccept(
                            v -> {
                              done[j] = System.nanoTime();
                              if (v.isEmpty() || Bench.stampOf(v.get()) != stamp) {
                                stale.incrementAndGet();
                              }
                            }))
            .requireNoFailures("pickups by the successor of " + oldId);
        if (stale.get() > 0) {
          throw new IllegalStateException(
              stale.get() + " pickups returned an older state than the final stash");
        }
        long closeStart = System.nanoTime();
        old.close();
        long closed = System.nanoTime() - closeStart;
        long last = stop;
        for (long d : done) {
          pauses[pauseCount++] = d - stop;
          last = Math.max(last, d);
        }
        handover[round] = (last - stop) / 1e9;
        nodes.set(round, next);
        breakdown.append(
            String.format(
                Locale.ROOT,
                "%s%s: %,d sessions, final stash %.0f ms, leave %.0f ms, MemberDown seen %.0f ms"
                    + " later, pickups done %.0f ms after that (successor had started in %.0f ms;"
                    + " old node's close() afterwards %.0f ms)",
                round == 0 ? "" : "; ",
                oldId,
                hosted.size(),
                (stashed - stop) / 1e6,
                (left - stashed) / 1e6,
                (seen - left) / 1e6,
                (last - seen) / 1e6,
                successorStart / 1e6,
                closed / 1e6));
      }
    } finally {
      all.forEach(Bench::closeQuietly);
    }
    var s = new Samples(pauses, pauseCount);
    var rep = bench.report;
    String what = String.format(Locale.ROOT, "%d nodes × %,d sessions", NODES, total);
    rep.add(Figure.plain(SCENARIO, "pause per session, p50 ms (" + what + ")" + tag, s.p50()));
    rep.add(Figure.plain(SCENARIO, "pause per session, p99 ms" + tag, s.p99()));
    rep.add(Figure.plain(SCENARIO, "pause per session, max ms" + tag, s.maxMs()));
    rep.add(
        Figure.plain(
            SCENARIO,
            "one node handed over (stop → last pickup), median s" + tag,
            Samples.median(handover)));
    rep.note(
        "Rolling deploy"
            + tag
            + ", in-process StateHandoff nodes built like an application's"
            + " (not the demo module, which is being written at the same time), "
            + total
            + " sessions in total over 3 nodes; "
            + breakdown
            + ".");
  }

  private static String sessionKey(int i) {
    return Bench.key("game", i);
  }
}
