package dev.handoff.bench;

import dev.handoff.Adoption;
import dev.handoff.Drain;
import dev.handoff.HandoverTarget;
import dev.handoff.MemberEvent;
import dev.handoff.MemberState;
import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Item 5: a rolling deploy of 3 nodes, each hosting N sessions, from v1 to v2, in three ways, each
 * on a topic of its own, in the same run:
 *
 * <ul>
 *   <li>{@code drain} (a Deployment with a surge): a v2 node with a new member id starts; once the
 *       old node sees it RUNNING, the old node {@link StateHandoff#drain drains} (each session
 *       stopped only when its own transfer starts, handed to the newest version), then leaves;
 *   <li>{@code restart} (a StatefulSet): the old node stops and stashes every session and leaves,
 *       then a v2 node with the same member id starts and {@link StateHandoff#adopt adopts} them;
 *   <li>{@code stash_pickup}, the path before live handover, kept here for comparison: a v2 node
 *       with a new member id starts first; the old node stops and stashes every session and leaves;
 *       once the new node sees it gone it reads the log to its end and picks each session up (256
 *       in flight, a failed pickup retried after 200 ms), as {@code GameNode} used to.
 * </ul>
 *
 * Nodes run in this JVM (so a session's pause, from its stop on the old node to its resumption on
 * the new one, is one clock's difference). The application side is the {@link Sessions} table: who
 * hosts each session, at which stamp; a session resumed while another node hosts it, or with an
 * older state than it was stopped with, is counted; at the end a fresh node reads every session and
 * checks its state and that its owner is the node hosting it.
 */
final class RollingScenario {
  static final String SCENARIO = "5 Rolling deploy";
  static final int NODES = 3;

  /** The nodes' consumer settings (what handoff-testkit-cluster's nodes use). */
  private static final ClientProfile PROFILE = ClientProfile.FETCH_WAIT_20;

  private static final Duration BUDGET = Duration.ofMinutes(2);
  private static final int STASHES_IN_FLIGHT = 256;
  private static final int PICKUPS_IN_FLIGHT = 256;

  private final Bench bench;
  private final int perNode;

  RollingScenario(Bench bench) {
    this.bench = bench;
    this.perNode = bench.options.rollingSessions();
  }

  /** One node's roll. Times in ms from the old node's signal (stop) unless said otherwise. */
  private record Row(
      String from,
      String to,
      int sessions,
      long leftMillis,
      long successorReadyMillis,
      long lastResumedMillis,
      long resumedAfterReadyMillis,
      Drain.Result drain,
      Adoption adoption) {}

  /** What one mode measured. */
  private record Outcome(
      String mode, Samples pauses, List<Row> rows, int lost, int stale, int duplicated) {}

  void run() throws Exception {
    String plainTopic = "bench-rolling-plain";
    bench.createTopic(plainTopic);
    int samples = Math.min(500, Math.max(50, bench.options.latencySamples()));
    long[] plainAck = new long[samples];
    long[] plainCall = new long[samples];
    new LatencyScenario(bench)
        .plainBaseline(PROFILE, plainTopic, samples, Math.min(100, samples), plainAck, plainCall);
    double plainP99 = new Samples(plainAck, samples).p99();
    var rep = bench.report;
    rep.add(
        Figure.plain(
                SCENARIO,
                "plain producer ack → plain consumer poll, p99 ms [" + PROFILE.label() + "]",
                plainP99)
            .withId("latency.plain_p99_ms"));

    var outcomes = new ArrayList<Outcome>();
    for (String mode : bench.options.rollingModes()) {
      System.out.printf(
          Locale.ROOT, "  rolling %s: %d nodes × %,d sessions%n", mode, NODES, perNode);
      Outcome o =
          switch (mode) {
            case "drain" -> drain();
            case "restart" -> restart();
            default -> stashPickup();
          };
      outcomes.add(o);
      report(o, plainP99);
    }
    var problems = new ArrayList<String>();
    for (Outcome o : outcomes) {
      if (o.lost() + o.stale() + o.duplicated() > 0) {
        problems.add(
            o.mode()
                + ": "
                + o.lost()
                + " lost, "
                + o.stale()
                + " stale, "
                + o.duplicated()
                + " duplicated");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("rolling deploy FAILED: " + String.join("; ", problems));
    }
  }

  // ------------------------------------------------------------------ the three ways

  private Outcome drain() throws Exception {
    String topic = "bench-rolling-drain";
    var sessions = new Sessions(NODES * perNode);
    var old = startOldNodes(topic, "drain-old-", sessions);
    var rows = new ArrayList<Row>();
    var all = new ArrayList<StateHandoff<byte[]>>(old);
    try {
      for (int i = 0; i < NODES; i++) {
        StateHandoff<byte[]> from = old.get(i);
        String fromId = from.self().id();
        String fromWriter = from.self().writerId();
        long launched = System.nanoTime();
        var surge = node(topic, "drain-new-" + (i + 1), "v2", sessions);
        all.add(surge);
        long ready = System.nanoTime();
        String toId = surge.self().id();
        await(
            fromId + " sees " + toId + " RUNNING",
            () ->
                from.members().stream()
                    .anyMatch(m -> m.id().equals(toId) && m.state() == MemberState.RUNNING));
        int hosted = sessions.hostedBy(fromId);
        long signal = System.nanoTime();
        Drain d =
            from.drain(
                HandoverTarget.newestVersionEvenly(),
                BUDGET,
                session -> sessions.stop(session, fromId));
        Drain.Result r = d.done().get(BUDGET.toSeconds() + 30, TimeUnit.SECONDS);
        // What leaveOnShutdown does next: stash what is still owned here, then leave.
        stashAndLeave(from, sessions);
        long left = System.nanoTime();
        await(
            "the sessions of " + fromId + " resume elsewhere",
            () -> sessions.resumedFrom(fromId) + r.kept() + r.failed() >= hosted);
        rows.add(
            new Row(
                fromWriter,
                surge.self().writerId(),
                hosted,
                ms(left - signal),
                ms(ready - launched),
                ms(sessions.lastResumedFrom(fromId) - signal),
                -1,
                r,
                null));
      }
      return check("drain", topic, sessions, rows);
    } finally {
      all.forEach(Bench::closeQuietly);
    }
  }

  private Outcome restart() throws Exception {
    String topic = "bench-rolling-restart";
    var sessions = new Sessions(NODES * perNode);
    var old = startOldNodes(topic, "pod-", sessions);
    var rows = new ArrayList<Row>();
    var all = new ArrayList<StateHandoff<byte[]>>(old);
    try {
      for (int i = 0; i < NODES; i++) {
        StateHandoff<byte[]> from = old.get(i);
        String memberId = from.self().id();
        String fromWriter = from.self().writerId();
        int hosted = sessions.hostedBy(memberId);
        long signal = System.nanoTime();
        stopAllAndStash(from, sessions);
        from.close();
        long gone = System.nanoTime();
        // The StatefulSet's pod comes back under the same name once the old one is gone.
        long launched = System.nanoTime();
        var successor = node(topic, memberId, "v2", sessions);
        all.add(successor);
        long ready = System.nanoTime();
        Adoption a =
            successor
                .adopt(
                    memberId,
                    BUDGET,
                    x -> sessions.resume(x.session(), memberId, x.state(), System.nanoTime()))
                .get(BUDGET.toSeconds() + 30, TimeUnit.SECONDS);
        await(
            "the sessions of " + fromWriter + " resume on " + successor.self().writerId(),
            () -> sessions.resumedFrom(memberId) >= hosted);
        long last = sessions.lastResumedFrom(memberId);
        rows.add(
            new Row(
                fromWriter,
                successor.self().writerId(),
                hosted,
                ms(gone - signal),
                ms(ready - launched),
                ms(last - signal),
                ms(last - Math.max(ready, gone)),
                null,
                a));
      }
      return check("restart", topic, sessions, rows);
    } finally {
      all.forEach(Bench::closeQuietly);
    }
  }

  private Outcome stashPickup() throws Exception {
    String topic = "bench-rolling-stash-pickup";
    var sessions = new Sessions(NODES * perNode);
    var old = startOldNodes(topic, "sp-old-", sessions);
    var rows = new ArrayList<Row>();
    var all = new ArrayList<StateHandoff<byte[]>>(old);
    try {
      for (int i = 0; i < NODES; i++) {
        StateHandoff<byte[]> from = old.get(i);
        String fromId = from.self().id();
        String fromWriter = from.self().writerId();
        long launched = System.nanoTime();
        var next = node(topic, "sp-new-" + (i + 1), "v2", sessions);
        all.add(next);
        long ready = System.nanoTime();
        String toId = next.self().id();
        var seenGone = new CompletableFuture<Long>();
        next.onMemberEvent(
            e -> {
              if (e instanceof MemberEvent.MemberDown down && down.member().id().equals(fromId)) {
                seenGone.complete(System.nanoTime());
              }
            });
        int hosted = sessions.hostedBy(fromId);
        long signal = System.nanoTime();
        stopAllAndStash(from, sessions);
        long left = System.nanoTime();
        long gone = seenGone.get(60, TimeUnit.SECONDS);
        pickUpAll(next, fromId, sessions);
        await(
            "the sessions of " + fromId + " resume on " + toId,
            () -> sessions.resumedFrom(fromId) >= hosted);
        long last = sessions.lastResumedFrom(fromId);
        rows.add(
            new Row(
                fromWriter,
                next.self().writerId(),
                hosted,
                ms(left - signal),
                ms(ready - launched),
                ms(last - signal),
                ms(last - gone),
                null,
                null));
      }
      return check("stash_pickup", topic, sessions, rows);
    } finally {
      all.forEach(Bench::closeQuietly);
    }
  }

  /**
   * The path before live handover (GameNode's adoptEarlierIncarnation): read the log to its end
   * once, then pick up every session the gone member owned, a bounded number in flight, each failed
   * pickup retried after 200 ms until the budget is spent.
   */
  private void pickUpAll(StateHandoff<byte[]> node, String goneMember, Sessions sessions)
      throws Exception {
    node.read("bench-rolling-barrier").get(60, TimeUnit.SECONDS);
    var keys = new ArrayList<>(node.keysOwnedBy(goneMember));
    String me = node.self().id();
    long deadline = System.nanoTime() + BUDGET.toNanos();
    var window = new Semaphore(PICKUPS_IN_FLIGHT);
    var pickups = new ArrayList<CompletableFuture<Void>>();
    for (String key : keys) {
      window.acquire();
      pickups.add(
          pickUp(node, key, deadline)
              .thenAccept(
                  state -> state.ifPresent(s -> sessions.resume(key, me, s, System.nanoTime())))
              .whenComplete((v, e) -> window.release()));
    }
    CompletableFuture.allOf(pickups.toArray(CompletableFuture[]::new))
        .get(BUDGET.toSeconds() + 30, TimeUnit.SECONDS);
  }

  private CompletableFuture<Optional<byte[]>> pickUp(
      StateHandoff<byte[]> node, String key, long deadline) {
    return node.pickup(key)
        .handle(
            (state, e) -> {
              if (e == null) {
                return CompletableFuture.completedFuture(state);
              }
              if (System.nanoTime() > deadline) {
                return CompletableFuture.<Optional<byte[]>>failedFuture(e);
              }
              return CompletableFuture.supplyAsync(
                      () -> null, CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS))
                  .thenCompose(x -> pickUp(node, key, deadline));
            })
        .thenCompose(f -> f);
  }

  // ------------------------------------------------------------------ nodes and sessions

  /** Starts the 3 v1 nodes and has each create and stash its N sessions. */
  private List<StateHandoff<byte[]>> startOldNodes(String topic, String prefix, Sessions sessions) {
    var nodes = new ArrayList<StateHandoff<byte[]>>();
    for (int i = 1; i <= NODES; i++) {
      nodes.add(node(topic, prefix + i, "v1", sessions));
    }
    for (int i = 0; i < NODES; i++) {
      var n = nodes.get(i);
      String member = n.self().id();
      int base = i * perNode;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Pipelined.run(
              perNode,
              STASHES_IN_FLIGHT,
              j -> stashRetrying(n, key(base + j), bench.value(0), deadline))
          .requireNoFailures("creating the sessions of " + member);
      for (int j = 0; j < perNode; j++) {
        sessions.created(key(base + j), member);
      }
    }
    return nodes;
  }

  /** A started node whose handed-over sessions resume in {@code sessions}. */
  private StateHandoff<byte[]> node(
      String topic, String memberId, String version, Sessions sessions) {
    var n = bench.node(topic, memberId, version, PROFILE, new KafkaDeltaLog.Listener() {});
    n.onHandover(a -> sessions.resume(a.session(), memberId, a.state(), System.nanoTime()));
    try {
      n.start().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      n.close();
      throw new IllegalStateException("node " + memberId + " did not start", e);
    }
    return n;
  }

  /**
   * A node's SIGTERM on the stash path: every session stopped at once and stashed, then it leaves
   * once every stash is acknowledged.
   */
  private static void stopAllAndStash(StateHandoff<byte[]> node, Sessions sessions)
      throws Exception {
    String me = node.self().id();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    var stashes = new ArrayList<CompletableFuture<Void>>();
    for (String key : node.ownedKeys()) {
      stashes.add(stashRetrying(node, key, sessions.stop(key, me), deadline));
    }
    CompletableFuture.allOf(stashes.toArray(CompletableFuture[]::new))
        .get(60, TimeUnit.SECONDS); // a failed final stash fails the scenario
    node.leave().get(60, TimeUnit.SECONDS);
  }

  /**
   * Stashes, again every 20 ms while the node refuses it as {@code Overloaded} (what the library
   * asks of its callers; a node stashing every session at once can pass its backlog bound), until
   * {@code deadline} (System.nanoTime).
   */
  static CompletableFuture<Void> stashRetrying(
      StateHandoff<byte[]> node, String key, byte[] state, long deadline) {
    return node.stash(key, state)
        .handle(
            (v, e) -> {
              if (e == null) {
                return CompletableFuture.<Void>completedFuture(null);
              }
              Throwable cause =
                  e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                      ? e.getCause()
                      : e;
              if (cause instanceof dev.handoff.HandoffException.Overloaded
                  && System.nanoTime() < deadline) {
                return CompletableFuture.runAsync(
                        () -> {}, CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS))
                    .thenCompose(x -> stashRetrying(node, key, state, deadline));
              }
              return CompletableFuture.<Void>failedFuture(cause);
            })
        .thenCompose(f -> f);
  }

  /**
   * What leaveOnShutdown does last: stash (at its stopped state) whatever is still owned here, then
   * leave once every write is acknowledged.
   */
  private static void stashAndLeave(StateHandoff<byte[]> node, Sessions sessions) throws Exception {
    String me = node.self().id();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    var stashes = new ArrayList<CompletableFuture<Void>>();
    for (String key : node.ownedKeys()) {
      byte[] state = sessions.stopped(key);
      stashes.add(
          stashRetrying(node, key, state != null ? state : sessions.stop(key, me), deadline));
    }
    CompletableFuture.allOf(stashes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    node.leave().get(60, TimeUnit.SECONDS);
  }

  /**
   * The application side: who hosts each session, the stamp of its state, when it stopped, and the
   * pauses and anomalies seen so far. Thread-safe.
   */
  final class Sessions {
    private final Map<String, String> host = new ConcurrentHashMap<>();
    private final Map<String, Long> stamp = new ConcurrentHashMap<>();
    private final Map<String, Long> stoppedAt = new ConcurrentHashMap<>();
    private final Map<String, String> lastHost = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> resumedFrom = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastResumed = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Long> pauses = new ConcurrentLinkedQueue<>();
    private final AtomicInteger duplicated = new AtomicInteger();
    private final AtomicInteger stale = new AtomicInteger();
    private final int total;

    Sessions(int total) {
      this.total = total;
    }

    void created(String session, String member) {
      host.put(session, member);
      lastHost.put(session, member);
      stamp.put(session, 0L);
    }

    /** {@code member} stops the session: returns its final state (one stamp on). */
    byte[] stop(String session, String member) {
      if (!host.remove(session, member)) {
        throw new IllegalStateException(member + " does not host " + session);
      }
      long s = stamp.merge(session, 1L, Long::sum);
      stoppedAt.put(session, System.nanoTime());
      return bench.value(s);
    }

    /** The state the session was stopped with, or null if it runs. */
    byte[] stopped(String session) {
      return host.containsKey(session) ? null : bench.value(stamp.get(session));
    }

    /** {@code member} resumes the session from {@code state} at {@code at} (nanoTime). */
    void resume(String session, String member, byte[] state, long at) {
      if (host.putIfAbsent(session, member) != null) {
        duplicated.incrementAndGet();
        return;
      }
      if (Bench.stampOf(state) < stamp.get(session)) {
        stale.incrementAndGet();
      }
      Long stopped = stoppedAt.remove(session);
      if (stopped != null) {
        pauses.add(at - stopped);
      }
      String from = lastHost.put(session, member);
      resumedFrom.computeIfAbsent(from, k -> new AtomicInteger()).incrementAndGet();
      lastResumed.computeIfAbsent(from, k -> new AtomicLong()).accumulateAndGet(at, Math::max);
    }

    int hostedBy(String member) {
      return (int) host.values().stream().filter(member::equals).count();
    }

    int resumedFrom(String member) {
      var n = resumedFrom.get(member);
      return n == null ? 0 : n.get();
    }

    long lastResumedFrom(String member) {
      var t = lastResumed.get(member);
      return t == null ? 0 : t.get();
    }

    Samples pauses() {
      long[] v = pauses.stream().mapToLong(Long::longValue).toArray();
      return new Samples(v, v.length);
    }
  }

  // ------------------------------------------------------------------ verdict and figures

  /**
   * A fresh node reads every session once the roll is over: each must exist with the state it was
   * last stopped with, owned by the node that hosts it.
   */
  private Outcome check(String mode, String topic, Sessions sessions, List<Row> rows)
      throws Exception {
    var reader = bench.node(topic, "rolling-reader-" + mode, PROFILE);
    int lost = 0;
    int stale = sessions.stale.get();
    int duplicated = sessions.duplicated.get();
    try {
      reader.start().get(120, TimeUnit.SECONDS);
      reader.read(key(0)).get(60, TimeUnit.SECONDS); // every acknowledged write is applied now
      for (int i = 0; i < sessions.total; i++) {
        String k = key(i);
        Optional<byte[]> state = reader.peek(k);
        String hostedBy = sessions.host.get(k);
        if (state.isEmpty() || hostedBy == null) {
          lost++;
        } else if (Bench.stampOf(state.get()) < sessions.stamp.get(k)) {
          stale++;
        } else if (!reader.owner(k).map(w -> w.memberId().equals(hostedBy)).orElse(false)) {
          duplicated++; // hosted by one node, owned by another
        }
      }
    } finally {
      Bench.closeQuietly(reader);
    }
    return new Outcome(mode, sessions.pauses(), rows, lost, stale, duplicated);
  }

  private void report(Outcome o, double plainP99) {
    var rep = bench.report;
    String m = o.mode();
    String what =
        String.format(
            Locale.ROOT,
            "%s, %d nodes × %,d sessions of %d B",
            m,
            NODES,
            perNode,
            bench.options.valueBytes());
    Samples p = o.pauses();
    rep.add(
        Figure.plain(SCENARIO, m + ": pause per session, p50 ms (" + what + ")", p.p50())
            .withId("rolling." + m + ".pause_p50_ms"));
    if (m.equals("drain")) {
      boolean met = p.p99() <= 25 && p.p99() <= 10 * plainP99;
      rep.add(
          Figure.versus(
                  SCENARIO,
                  m + ": pause per session, p99 ms",
                  p.p99(),
                  "plain producer ack → consumer poll p99",
                  plainP99,
                  p.p99() / plainP99,
                  "p99 ≤ 25 ms and ≤ 10× plain",
                  met)
              .withId("rolling." + m + ".pause_p99_ms"));
    } else {
      rep.add(
          Figure.plain(SCENARIO, m + ": pause per session, p99 ms", p.p99())
              .withId("rolling." + m + ".pause_p99_ms"));
    }
    rep.add(
        Figure.plain(SCENARIO, m + ": pause per session, max ms", p.maxMs())
            .withId("rolling." + m + ".pause_max_ms"));
    double[] roll = o.rows().stream().mapToDouble(Row::lastResumedMillis).toArray();
    rep.add(
        Figure.plain(
                SCENARIO,
                m + ": one node, stop → its last session resumed elsewhere, median ms",
                Samples.median(roll))
            .withId("rolling." + m + ".node_roll_ms"));
    if (m.equals("drain")) {
      double moved =
          o.rows().stream().mapToDouble(r -> r.drain().took().toNanos() / 1e6).max().orElse(0);
      rep.add(
          Figure.target(
                  SCENARIO,
                  m + ": one node's sessions moved (drain took), slowest node ms",
                  moved,
                  "≤ 1,000 ms",
                  moved <= 1000)
              .withId("rolling.drain.node_moved_ms"));
    } else {
      double after = o.rows().stream().mapToDouble(Row::resumedAfterReadyMillis).max().orElse(0);
      String label =
          m.equals("restart")
              ? "successor ready and predecessor gone → its last session resumed, slowest node ms"
              : "successor saw the old node gone → its last session resumed, slowest node ms";
      rep.add(
          (m.equals("restart")
                  ? Figure.target(SCENARIO, m + ": " + label, after, "≤ 300 ms", after <= 300)
                  : Figure.plain(SCENARIO, m + ": " + label, after))
              .withId("rolling." + m + ".resumed_after_ready_ms"));
      rep.add(
          Figure.plain(
                  SCENARIO,
                  m + ": old node stopped, stashed every session and left, median ms",
                  Samples.median(o.rows().stream().mapToDouble(Row::leftMillis).toArray()))
              .withId("rolling." + m + ".stash_and_leave_ms"));
    }
    rep.add(
        Figure.plain(
                SCENARIO,
                m + ": new node started (replayed the log), median ms",
                Samples.median(o.rows().stream().mapToDouble(Row::successorReadyMillis).toArray()))
            .withId("rolling." + m + ".successor_ready_ms"));
    rep.add(zero(m, "lost", o.lost()));
    rep.add(zero(m, "stale", o.stale()));
    rep.add(zero(m, "duplicated", o.duplicated()));
    var sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "Rolling deploy, %s: %d nodes in this JVM, %,d sessions of %d B each, %d"
                + " partitions, consumers %s; pause = stop on the old node → resumed on the new one"
                + " (%,d pauses measured). Per node:",
            m,
            NODES,
            perNode,
            bench.options.valueBytes(),
            bench.options.partitions(),
            PROFILE.label(),
            p.count()));
    for (Row r : o.rows()) {
      sb.append(
          String.format(
              Locale.ROOT,
              " %s → %s: %,d sessions, new node started in %d ms, old node left %d ms after its"
                  + " stop began, last session resumed at %d ms",
              r.from(),
              r.to(),
              r.sessions(),
              r.successorReadyMillis(),
              r.leftMillis(),
              r.lastResumedMillis()));
      if (r.drain() != null) {
        sb.append(" (").append(r.drain()).append(')');
      }
      if (r.adoption() != null) {
        sb.append(" (").append(r.adoption()).append(')');
      }
      if (r.resumedAfterReadyMillis() >= 0) {
        sb.append(", ").append(r.resumedAfterReadyMillis()).append(" ms after ready and gone");
      }
      sb.append(';');
    }
    sb.setLength(sb.length() - 1);
    sb.append('.');
    rep.note(sb.toString());
  }

  private static Figure zero(String mode, String what, int count) {
    return Figure.target(SCENARIO, mode + ": sessions " + what, count, "0", count == 0)
        .withId("rolling." + mode + "." + what);
  }

  private static String key(int i) {
    return Bench.key("roll", i);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting until " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L); // polling the app's table
    }
  }
}
