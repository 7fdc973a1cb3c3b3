package dev.handoff.testkit.cluster;

import dev.handoff.HandoffException;
import dev.handoff.Member;
import dev.handoff.StateHandoff;
import dev.handoff.testkit.cluster.history.HistoryFile;
import dev.handoff.testkit.cluster.history.Op;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The fault test's workload inside one node JVM, on the public {@link StateHandoff} API: sessions
 * holding counters. The node creates sessions (the first stash claims them), keeps stashing
 * increments of the sessions it holds, now and then ends one, reads others', and picks up sessions
 * whose owner is no live member (or is itself, after an ambiguous pickup). A {@code Fenced} or
 * other no-effect failure drops the session; it may be picked up again later.
 *
 * <p>Each value is {@code counter:node:n}, unique across the run, and each stash is recorded with
 * the value it was derived from, so the checker can tell which writes a read includes. Every call
 * is recorded in the node's history before it is made and when its future completes.
 *
 * <p>All state belongs to one thread (the loop); futures complete on Handoff's threads, record the
 * outcome there at once, and hand the rest back to the loop.
 */
final class CounterWorkload {
  /** How hard the workload drives its node. */
  record Settings(
      int sessions,
      long stashIntervalMs,
      int stashesInFlight,
      long scanIntervalMs,
      long readIntervalMs) {
    static final Settings DEFAULT = new Settings(6, 40, 3, 500, 100);
  }

  private static final long TICK_MS = 5;

  private final StateHandoff<String> handoff;
  private final HistoryFile.Recorder history;
  private final Random random;
  private final Settings settings;
  private final ScheduledExecutorService loop;

  // Loop-thread state.
  private final Map<String, Held> held = new HashMap<>();
  private final Set<String> pickingUp = new HashSet<>();
  private int inFlight;
  private long created;
  private long values;
  private long nextScan;
  private long nextRead;
  private long nextCreate;
  private boolean stopping;
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  /** A session this node holds: the value it last stashed (or picked up). */
  private static final class Held {
    final String key;
    String value;
    long counter;
    int inFlight;
    long lastStash;

    Held(String key, String value) {
      this.key = key;
      this.value = value;
      this.counter = value == null ? 0 : Long.parseLong(value.substring(0, value.indexOf(':')));
    }
  }

  CounterWorkload(
      StateHandoff<String> handoff, HistoryFile.Recorder history, long seed, Settings settings) {
    this.handoff = handoff;
    this.history = history;
    this.random = new Random(seed);
    this.settings = settings;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "counter-workload");
              t.setDaemon(true);
              return t;
            });
  }

  void start() {
    loop.scheduleWithFixedDelay(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Stops making calls, waits up to {@code timeoutMs} for those in flight, and returns the sessions
   * this node then holds (calls still in flight after the timeout stay unknown in the history).
   */
  Set<String> quiesce(long timeoutMs) throws Exception {
    loop.submit(this::stop).get();
    try {
      drained.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      // leave them unknown
    }
    return loop.submit(() -> (Set<String>) new TreeSet<>(held.keySet())).get();
  }

  /** For the shutdown hook: stops the loop, then stashes every held session once more. */
  void stashAllAndStop() {
    try {
      loop.submit(
              () -> {
                stop();
                long now = System.nanoTime();
                new ArrayList<>(held.values()).forEach(h -> stash(h, now));
              })
          .get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("could not stash the held sessions", e);
    }
  }

  private void stop() {
    stopping = true;
    if (inFlight == 0) {
      drained.complete(null);
    }
  }

  private void tick() {
    if (stopping) {
      return;
    }
    try {
      long now = System.nanoTime();
      long interval = TimeUnit.MILLISECONDS.toNanos(settings.stashIntervalMs());
      for (Held h : new ArrayList<>(held.values())) {
        if (h.inFlight < settings.stashesInFlight() && now - h.lastStash >= interval) {
          stash(h, now);
        }
      }
      // About one end per node every 4 s, more often while it holds more than its share.
      double endChance = TICK_MS / 4000.0 * (held.size() > settings.sessions() ? 4 : 1);
      if (!held.isEmpty() && random.nextDouble() < endChance) {
        endOne();
      }
      if (now >= nextScan) {
        adoptOrphans();
        nextScan = now + jitter(settings.scanIntervalMs());
      }
      if (held.size() + pickingUp.size() < settings.sessions() && now >= nextCreate) {
        create(now);
        nextCreate = now + jitter(200);
      }
      if (now >= nextRead) {
        readOne();
        nextRead = now + jitter(settings.readIntervalMs());
      }
    } catch (RuntimeException e) {
      // e.g. NotReady while leaving; a failed tick must not end the schedule: the next one retries
      System.err.println("workload tick failed: " + e);
    }
  }

  private long jitter(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms / 2 + random.nextInt((int) Math.max(1, ms)));
  }

  private void create(long now) {
    var h = new Held("s-" + history.node() + "-" + (++created), null);
    held.put(h.key, h);
    stash(h, now);
  }

  private void stash(Held h, long now) {
    String base = h.value;
    h.counter++;
    h.value = h.counter + ":" + history.node() + ":" + (++values);
    h.lastStash = now;
    h.inFlight++;
    String key = h.key;
    String value = h.value;
    call(
        Op.Type.STASH,
        key,
        value,
        base,
        () -> handoff.stash(key, value),
        (r, e) -> {
          h.inFlight--;
          if (e != null && noEffect(e) && held.get(key) == h) {
            held.remove(key); // lost it: a later scan may pick it up again
          }
        });
  }

  private void endOne() {
    var idle = held.values().stream().filter(h -> h.inFlight == 0).map(h -> h.key).toList();
    if (idle.isEmpty()) {
      return;
    }
    String key = idle.get(random.nextInt(idle.size()));
    held.remove(key);
    call(Op.Type.END, key, null, null, () -> handoff.end(key), (r, e) -> {});
  }

  /** Picks up sessions owned by no live member, and its own ones it does not hold. */
  private void adoptOrphans() {
    String me = handoff.self().writerId();
    Set<String> live = handoff.members().stream().map(Member::writerId).collect(Collectors.toSet());
    List<String> orphans = new ArrayList<>();
    for (String key : handoff.keys()) {
      if (held.containsKey(key) || pickingUp.contains(key)) {
        continue;
      }
      Optional<String> owner = handoff.owner(key).map(Object::toString);
      if (owner.isPresent() && (owner.get().equals(me) || !live.contains(owner.get()))) {
        orphans.add(key);
      }
    }
    Collections.shuffle(orphans, random);
    for (String key : orphans) {
      if (pickingUp.size() >= 2) {
        break;
      }
      pickingUp.add(key);
      call(
          Op.Type.PICKUP,
          key,
          null,
          null,
          () -> handoff.pickup(key),
          (r, e) -> {
            pickingUp.remove(key);
            if (e == null && r.isPresent() && !held.containsKey(key)) {
              held.put(key, new Held(key, r.get()));
            }
          });
    }
  }

  private void readOne() {
    var others = new ArrayList<String>();
    for (String key : handoff.keys()) {
      if (!held.containsKey(key)) {
        others.add(key);
      }
    }
    if (others.isEmpty()) {
      return;
    }
    String key = others.get(random.nextInt(others.size()));
    call(Op.Type.READ, key, null, null, () -> handoff.read(key), (r, e) -> {});
  }

  /** Records the call, makes it, records its outcome, then runs {@code then} on the loop. */
  private <R> void call(
      Op.Type type,
      String key,
      String written,
      String base,
      Supplier<CompletableFuture<R>> op,
      BiConsumer<R, Throwable> then) {
    long seq = history.invoke(handoff.self().writerId(), type, key, written, base);
    inFlight++;
    CompletableFuture<R> f;
    try {
      f = op.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (r, e) -> {
          Throwable cause =
              e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause == null) {
            history.ok(seq, type, r instanceof Optional<?> o ? (String) o.orElse(null) : null);
          } else {
            history.failed(seq, cause, cause instanceof HandoffException.Timeout);
          }
          try {
            loop.execute(
                () -> {
                  inFlight--;
                  then.accept(r, cause);
                  if (stopping && inFlight == 0) {
                    drained.complete(null);
                  }
                });
          } catch (RejectedExecutionException closed) {
            // the JVM is going down
          }
        });
  }

  /** Failures the API promises had no effect: the session is not (or no longer) this node's. */
  private static boolean noEffect(Throwable e) {
    return e instanceof HandoffException.Fenced
        || e instanceof HandoffException.OwnedElsewhere
        || e instanceof HandoffException.Left
        || e instanceof HandoffException.NotReady
        || e instanceof HandoffException.TooLarge;
  }
}
