package dev.handoff.demo;

import dev.handoff.Adoption;
import dev.handoff.HandoffException;
import dev.handoff.MemberEvent;
import dev.handoff.SessionMover;
import dev.handoff.StateHandoff;
import dev.handoff.kafka.AvroStateCodec;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.micrometer.HandoffMetrics;
import dev.handoff.micrometer.KafkaDeltaLogMetrics;
import dev.handoff.spi.StateCodecException;
import dev.handoff.zk.ZkMembership;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A game server node: hosts game sessions, ticks them on a timer, and uses Handoff so that its
 * sessions survive it being replaced. It holds no choreography of its own: each step is one call of
 * the library.
 *
 * <ul>
 *   <li>On start it joins the cluster ({@link StateHandoff#start()}) and adopts whatever an earlier
 *       incarnation of its member id owned ({@link StateHandoff#adopt}: a pod restarted under its
 *       own name, or after a crash), resuming each session as soon as it owns it. With {@code
 *       --create} it also creates its share of the sessions that do not exist yet. Sessions other
 *       nodes hand to it ({@link StateHandoff#onHandover}) resume the same way.
 *   <li>Every tick it advances each hosted session; every {@code --stash-interval-ms} it stashes
 *       each one (spread over the interval), so that a crash loses at most that much play.
 *   <li>On SIGTERM ({@link StateHandoff#leaveOnShutdown}): with {@code --on-shutdown drain} each
 *       session is stopped only when its own transfer to a running node of the newest version
 *       starts (the {@link SessionMover}), and what none took is stashed; with {@code --on-shutdown
 *       stash} it stops ticking and stashes every session for a successor that adopts them. Then it
 *       leaves the cluster.
 * </ul>
 *
 * <p>With {@code --protocol} it reports every step as a {@link NodeMessage} line on standard output
 * for the orchestrator ({@link Demo}), and stops gracefully when standard input closes. Logs go to
 * standard error.
 */
public final class GameNode {
  private static final Logger log = LoggerFactory.getLogger(GameNode.class);
  private static final Duration ADOPT_TIMEOUT = Duration.ofMinutes(2);
  private static final String ZK_USER = "handoff-demo";
  private static final String ZK_PASSWORD = "handoff-demo-secret";

  private final NodeSettings settings;
  // How long SIGTERM may take: 25 s, and 1 s more per 1,000 sessions this node hosts, for a drain
  // of a large node on a busy host (terminationGracePeriodSeconds must cover it in Kubernetes).
  private final Duration shutdownBudget;
  private final PrintStream out;
  private final Schema schema;
  private final boolean knowsLevels;
  private final int stashEveryTicks;
  private final StateHandoff<GenericRecord> handoff;
  // What the report shows of the node's meters: a registry of the node's own, no exporter.
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final HandoffMetrics metrics;
  private final ScheduledExecutorService ticker =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "game-ticker");
            t.setDaemon(true);
            return t;
          });

  // Confined to the ticker thread.
  private final Map<String, GameSession> hosted = new LinkedHashMap<>();
  private boolean stopped;
  private ScheduledFuture<?> tickTask;

  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong stashFailures = new AtomicLong();
  // Periodic stashes the node refused as overloaded: expected under load, not failures.
  private final AtomicLong overloaded = new AtomicLong();
  private final AtomicLong peeks = new AtomicLong();
  private final AtomicLong decodeErrors = new AtomicLong();
  private long reports;

  GameNode(NodeSettings settings, PrintStream out) {
    this.settings = settings;
    this.shutdownBudget =
        Duration.ofSeconds(25).plusMillis(settings.sessions() / Math.max(1, settings.nodes()));
    this.out = out;
    this.schema = GameSchemas.forVersion(settings.version());
    this.knowsLevels = schema.getField("level") != null;
    this.stashEveryTicks = Math.max(1, settings.stashMillis() / settings.tickMillis());
    var deltaLog =
        KafkaDeltaLog.builder()
            .bootstrapServers(settings.kafka())
            .topic(settings.topic())
            .partitions(settings.partitions())
            .replicationFactor(settings.replicationFactor())
            .clientProperty("client.id", "handoff-demo-" + settings.memberId())
            // Pickups read to the end of the log first; do not let an idle fetch hold that up.
            .clientProperty("fetch.max.wait.ms", "25")
            .build();
    var codec = AvroStateCodec.generic(schema, deltaLog);
    this.metrics =
        HandoffMetrics.builder()
            .topic(settings.topic())
            .group(settings.topic())
            .member(settings.memberId())
            .tag("version", settings.version())
            .build();
    var membership =
        ZkMembership.builder()
            .connectString(settings.zookeeper())
            .group(settings.topic())
            .memberId(settings.memberId())
            .version(settings.version())
            .sessionTimeout(Duration.ofMillis(settings.sessionTimeoutMillis()))
            .connectionTimeout(Duration.ofMillis(settings.sessionTimeoutMillis()))
            .digestAuth(ZK_USER, ZK_PASSWORD)
            .build();
    this.handoff =
        StateHandoff.<GenericRecord>builder()
            .deltaLog(deltaLog)
            .membership(membership)
            .codec(codec)
            .name(settings.memberId())
            .sweepInterval(Duration.ofSeconds(2))
            .operationRecorder(metrics)
            .build();
    metrics.monitor(handoff).bindTo(meters);
    new KafkaDeltaLogMetrics(deltaLog, metrics.tags()).bindTo(meters);
  }

  public static void main(String[] argv) {
    // Standard output carries the protocol; anything else printed goes to the log (stderr).
    PrintStream protocolOut = System.out;
    System.setOut(System.err);
    NodeSettings settings;
    try {
      settings = NodeSettings.parse(argv);
    } catch (NodeSettings.HelpRequested h) {
      protocolOut.print(h.getMessage());
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("GameNode: " + e.getMessage());
      System.err.print(NodeSettings.USAGE);
      System.exit(2);
      return;
    }
    var node = new GameNode(settings, protocolOut);
    try {
      node.run();
    } catch (RuntimeException e) {
      log.error("{} failed", settings.memberId(), e);
      System.exit(1);
    }
  }

  /** Starts the node and serves until the JVM is stopped (or standard input closes). */
  void run() {
    if (settings.onShutdown().equals(NodeSettings.DRAIN)) {
      handoff.leaveOnShutdown(shutdownBudget, new Mover());
    } else {
      handoff.leaveOnShutdown(shutdownBudget, this::stashAll);
    }
    handoff.onHandover(a -> resume(a.state()));
    handoff.start().join();
    String me = handoff.self().writerId();
    log.info("{} ({}) ready", me, settings.version());
    emit(new NodeMessage.Ready(me, settings.version()), true);
    // With a fixed delay, not a fixed rate: a tick that overruns its period (10,000 sessions on a
    // busy host) would otherwise be due again at once, forever ahead of everything else queued on
    // the ticker — a drain's stop of a session, the orchestrator's LIST — and starve them (the
    // 30,000-session demo drained 2 of 10,000 sessions in 25 s that way). Play slows instead.
    tickTask =
        ticker.scheduleWithFixedDelay(
            this::tick, settings.tickMillis(), settings.tickMillis(), TimeUnit.MILLISECONDS);
    ticker.scheduleWithFixedDelay(this::report, 1, 1, TimeUnit.SECONDS);
    ticker.scheduleWithFixedDelay(this::peekOthers, 500, 1000, TimeUnit.MILLISECONDS);

    int adopted = adoptEarlierIncarnations(me);
    int created = settings.create() ? createMissingSessions() : 0;
    int hosting = CompletableFuture.supplyAsync(hosted::size, ticker).join();
    log.info(
        // scripts/compose-demo.sh reads this line: "picked up" counts the adopted sessions.
        "{} ({}) hosts {} sessions: {} picked up, {} created",
        me,
        settings.version(),
        hosting,
        adopted,
        created);
    if (settings.protocol()) {
      serveCommands();
    } else {
      new CompletableFuture<Void>().join(); // until SIGTERM
    }
  }

  // ------------------------------------------------------------------ start: adopt and create

  /**
   * Adopts the sessions of earlier incarnations of this member id (none for a fresh member id) and
   * resumes each one as soon as it is owned here. Returns how many it adopted.
   */
  private int adoptEarlierIncarnations(String me) {
    // Reporting only (the orchestrator times the roll): which earlier incarnation it waits for,
    // and when it saw it go. The adoption itself waits on its own.
    handoff.onMemberEvent(
        e -> {
          if (e instanceof MemberEvent.MemberDown down
              && down.member().id().equals(settings.memberId())
              && !down.member().writerId().equals(me)) {
            emit(new NodeMessage.Gone(down.member().writerId(), micros()), true);
          }
        });
    handoff.members().stream()
        .filter(m -> m.id().equals(settings.memberId()) && !m.writerId().equals(me))
        .findFirst()
        .ifPresent(
            m -> {
              log.info("adopting the sessions of {} once it is gone", m.writerId());
              emit(new NodeMessage.Waiting(m.writerId()), true);
            });
    var resumed = new SessionDigest();
    Adoption r =
        handoff
            .adopt(
                settings.memberId(),
                ADOPT_TIMEOUT,
                a -> resumed.add(a.session(), resume(a.state())))
            .join();
    emit(
        new NodeMessage.Adopted(
            r.adopted(), r.skipped(), r.failed(), r.took().toMillis(), micros()),
        true);
    if (r.adopted() > 0) {
      log.info("adopted {}; resumed from the log: {}", r, resumed);
    }
    return r.adopted();
  }

  /**
   * A session became this node's (handed over or adopted): it resumes from {@code state} on the
   * ticker. Returns the session as resumed.
   */
  /**
   * Hosts the session from {@code state}; returns the tick it resumes from (before it plays on).
   */
  private long resume(GenericRecord state) {
    GameSession s = GameSession.fromRecord(state);
    long from = s.tick(); // read before the ticker plays its first tick
    ticker.execute(() -> host(s, true));
    return from;
  }

  /** Creates, stashes and hosts this node's share of the sessions nobody has created yet. */
  private int createMissingSessions() {
    var existing = handoff.keys();
    var creations = new ArrayList<CompletableFuture<Void>>();
    for (int j = settings.index(); j <= settings.sessions(); j += settings.nodes()) {
      String key = NodeSettings.sessionId(j, settings.sessions());
      if (existing.contains(key)) {
        continue;
      }
      GameSession s = GameSession.create(key, settings.stateSize(), knowsLevels);
      creations.add(
          stashRetrying(key, s.toRecord(schema), System.nanoTime() + ADOPT_TIMEOUT.toNanos())
              .handle(
                  (v, e) -> {
                    if (e != null) {
                      emit(new NodeMessage.StashFailed(key, 0, unwrap(e).toString()), true);
                      return CompletableFuture.<Void>completedFuture(null);
                    }
                    acked.incrementAndGet();
                    emit(new NodeMessage.Acked(key, 0, micros()), false);
                    return runOnTicker(() -> host(s, false));
                  })
              .thenCompose(f -> f));
    }
    CompletableFuture.allOf(creations.toArray(CompletableFuture[]::new)).join();
    log.info("created {} sessions", creations.size());
    return creations.size();
  }

  // ------------------------------------------------------------------ ticker thread

  /** Starts hosting {@code s}: plays its first tick now. Ticker thread. */
  private void host(GameSession s, boolean pickedUp) {
    if (stopped) {
      return;
    }
    long fromTick = s.tick();
    int levelRead = s.level();
    s.advance(knowsLevels);
    hosted.put(s.id(), s);
    emit(new NodeMessage.Hosting(s.id(), pickedUp, fromTick, levelRead, micros()), false);
  }

  private void tick() {
    try {
      for (GameSession s : hosted.values()) {
        s.advance(knowsLevels);
        if (Math.floorMod(s.tick() + s.id().hashCode(), stashEveryTicks) == 0) {
          stash(s);
        }
      }
    } catch (RuntimeException e) {
      log.error("tick failed", e); // never let the timer die
    }
  }

  /**
   * Stashes {@code state}, again after a short pause whenever the node refuses it as overloaded (as
   * a client of StateHandoff should), until it is taken or {@code deadline} (System.nanoTime).
   */
  private CompletableFuture<Void> stashRetrying(String key, GenericRecord state, long deadline) {
    return handoff
        .stash(key, state)
        .handle(
            (v, e) -> {
              if (e == null) {
                return CompletableFuture.<Void>completedFuture(null);
              }
              if (unwrap(e) instanceof HandoffException.Overloaded
                  && System.nanoTime() < deadline) {
                return CompletableFuture.runAsync(
                        () -> {}, CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS))
                    .thenCompose(x -> stashRetrying(key, state, deadline));
              }
              return CompletableFuture.<Void>failedFuture(unwrap(e));
            })
        .thenCompose(f -> f);
  }

  /** Stashes a copy of {@code s} as it is now; the future never fails (failures are reported). */
  private CompletableFuture<Void> stash(GameSession s) {
    return stash(s, 0);
  }

  /**
   * As {@link #stash(GameSession)}; with a {@code deadline} (System.nanoTime, 0 for none) a stash
   * refused as overloaded is retried until then. A periodic stash refused as overloaded is only
   * counted: the next one follows within a stash interval.
   */
  private CompletableFuture<Void> stash(GameSession s, long deadline) {
    String key = s.id();
    long tick = s.tick();
    GenericRecord state = s.toRecord(schema);
    return (deadline == 0 ? handoff.stash(key, state) : stashRetrying(key, state, deadline))
        .handle(
            (v, e) -> {
              if (e == null) {
                acked.incrementAndGet();
                emit(new NodeMessage.Acked(key, tick, micros()), false);
              } else if (deadline == 0 && unwrap(e) instanceof HandoffException.Overloaded) {
                overloaded.incrementAndGet();
              } else {
                Throwable cause = unwrap(e);
                stashFailures.incrementAndGet();
                emit(new NodeMessage.StashFailed(key, tick, cause.toString()), true);
                if (cause instanceof HandoffException.Fenced) {
                  // Someone else owns it now: stop playing it here.
                  ticker.execute(() -> drop(key, "fenced"));
                }
              }
              return null;
            });
  }

  private void drop(String key, String reason) {
    GameSession s = hosted.remove(key);
    if (s != null) {
      log.warn("stopped hosting {} at tick {}: {}", key, s.tick(), reason);
      emit(new NodeMessage.Stopped(key, s.tick(), micros(), reason), true);
    }
  }

  private void report() {
    if (!settings.protocol() && reports++ % 10 != 0) {
      return; // a line every 10 s is enough for a human reading container logs
    }
    emit(
        new NodeMessage.Stats(
            hosted.size(), acked.get(), stashFailures.get(), peeks.get(), decodeErrors.get()),
        true);
    emit(meterReadings(), false);
  }

  /** A few of the node's meters, as the orchestrator's report shows them. */
  private NodeMessage.Meters meterReadings() {
    Timer stash = meters.find("handoff.stash").tag("outcome", "ok").timer();
    Timer pickup = meters.find("handoff.pickup").tag("outcome", "ok").timer();
    Counter fenced = meters.find("handoff.writes.fenced").counter();
    double skipped = 0;
    for (var c : meters.find("handoff.records.skipped").functionCounters()) {
      skipped += c.count();
    }
    return new NodeMessage.Meters(
        stash == null ? 0 : stash.count(),
        stash == null ? 0 : stash.mean(TimeUnit.MILLISECONDS),
        pickup == null ? 0 : pickup.count(),
        pickup == null ? 0 : pickup.mean(TimeUnit.MILLISECONDS),
        fenced == null ? 0 : (long) fenced.count(),
        (long) skipped);
  }

  /**
   * Reads a few sessions hosted elsewhere, as a check that this version decodes what the others
   * write (a v1 node reading v2 states during the roll, and the other way round).
   */
  private void peekOthers() {
    try {
      var keys = new ArrayList<>(handoff.keys());
      keys.removeAll(hosted.keySet());
      for (int i = 0; i < 5 && !keys.isEmpty(); i++) {
        String key = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
        try {
          handoff.peek(key);
          peeks.incrementAndGet();
        } catch (StateCodecException e) {
          decodeErrors.incrementAndGet();
          log.warn("cannot decode session {}: {}", key, e.getMessage());
        }
      }
    } catch (RuntimeException e) {
      log.warn("peek check failed", e);
    }
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * How a drain stops a session for its own transfer: on the ticker, so that the state handed over
   * is the session's last tick here. Sessions the other nodes keep ticking meanwhile.
   */
  private final class Mover implements SessionMover<GenericRecord> {
    @Override
    public GenericRecord stop(String session) {
      GenericRecord state =
          CompletableFuture.supplyAsync(
                  () -> {
                    GameSession s = hosted.remove(session);
                    if (s == null) {
                      return null;
                    }
                    emit(new NodeMessage.Stopped(session, s.tick(), micros(), "moving"), false);
                    return s.toRecord(schema);
                  },
                  ticker)
              .join();
      // Owned here but not hosted (it arrived as the drain began): its state is the replica's.
      return state != null ? state : handoff.peek(session).orElseThrow();
    }
  }

  /**
   * The shutdown hook's "stash every session I host": stops the game timer, stashes each session at
   * its last tick and waits for the acknowledgements; {@link StateHandoff#leaveOnShutdown} then
   * leaves the cluster.
   */
  private void stashAll() {
    long t0 = System.nanoTime();
    List<CompletableFuture<Void>> stashes;
    var last = new SessionDigest();
    try {
      stashes =
          CompletableFuture.supplyAsync(
                  () -> {
                    stopped = true;
                    if (tickTask != null) {
                      tickTask.cancel(false);
                    }
                    long now = micros();
                    long deadline = System.nanoTime() + shutdownBudget.toNanos();
                    var list = new ArrayList<CompletableFuture<Void>>();
                    for (GameSession s : hosted.values()) {
                      emit(new NodeMessage.Stopped(s.id(), s.tick(), now, "shutdown"), false);
                      last.add(s.id(), s.tick());
                      list.add(stash(s, deadline));
                    }
                    hosted.clear();
                    return list;
                  },
                  ticker)
              .get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.error("could not stop the game timer", e);
      return;
    }
    int done = 0;
    long budget = shutdownBudget.toNanos() - TimeUnit.SECONDS.toNanos(5);
    try {
      CompletableFuture.allOf(stashes.toArray(CompletableFuture[]::new))
          .get(budget, TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      log.error("not every final stash completed in time", e);
    }
    for (var f : stashes) {
      if (f.isDone()) {
        done++;
      }
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    log.info(
        "stashed {} sessions ({} done) in {} ms; leaving ({} periodic stashes were refused as"
            + " overloaded)",
        stashes.size(),
        done,
        ms,
        overloaded.get());
    log.info("final stashes: {}", last);
    emit(new NodeMessage.Stashed(stashes.size(), done, ms), true);
  }

  // ------------------------------------------------------------------ protocol

  /** Serves orchestrator commands on standard input; when it closes, stops the JVM gracefully. */
  private void serveCommands() {
    try (var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("LIST")) {
          emit(CompletableFuture.supplyAsync(this::hostedList, ticker).join(), true);
        }
      }
    } catch (Exception e) {
      log.warn("reading commands failed", e);
    }
    log.info("standard input closed: stopping");
    System.exit(0);
  }

  private NodeMessage.Hosted hostedList() {
    var list = new ArrayList<String>();
    hosted.values().forEach(s -> list.add(s.id() + ":" + s.tick() + ":" + s.level()));
    return new NodeMessage.Hosted(list);
  }

  private synchronized void emit(NodeMessage m, boolean important) {
    if (settings.protocol()) {
      out.println(m.encode());
    } else if (important) {
      out.println(settings.memberId() + " " + m.encode());
    }
  }

  private CompletableFuture<Void> runOnTicker(Runnable task) {
    return CompletableFuture.runAsync(task, ticker);
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  static long micros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }
}
