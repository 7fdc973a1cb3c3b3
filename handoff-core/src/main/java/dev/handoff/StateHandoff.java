package dev.handoff;

import dev.handoff.crdt.ClaimOutcome;
import dev.handoff.crdt.FencingException;
import dev.handoff.crdt.Replica;
import dev.handoff.crdt.SessionView;
import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.Membership;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated session map of one node: {@link #stash} a session's state before the node goes
 * away, {@link #pickup} it on the node that carries on.
 *
 * <p>Built with {@link #builder()} from a {@link DeltaLog} (the durable log every node reads), a
 * {@link Membership} (who is up) and a {@link StateCodec} (state to bytes). Lifecycle: {@link
 * #start()} joins the membership, replays the log to its end and then reports ready; {@link
 * #leave()} refuses new writes, waits for every pending write to be acknowledged and leaves the
 * membership gracefully; {@link #close()} releases everything and is idempotent.
 *
 * <p><b>Threading.</b> Every public method is thread-safe and none blocks on the network: writes
 * and pickups return {@link CompletableFuture}s. The replicated state has one owner thread (like
 * the GenServer in the original Elixir sketch); the log's reader thread and the API calls hand work
 * to it. Listeners run on a separate callback executor, so a slow listener never holds up the log.
 * Operations on one session run one after the other, in call order; different sessions proceed in
 * parallel.
 *
 * <p><b>Errors.</b> Futures complete exceptionally with a {@link HandoffException} subclass: {@link
 * HandoffException.NotReady}, {@link HandoffException.Left}, {@link HandoffException.Fenced},
 * {@link HandoffException.OwnedElsewhere}, {@link HandoffException.TooLarge}, {@link
 * HandoffException.Timeout}; failures of the log itself come as a {@link HandoffException} with the
 * cause attached.
 *
 * @param <T> the application's session state type
 */
public final class StateHandoff<T> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private enum Phase {
    NEW,
    STARTING,
    READY,
    LEAVING,
    LEFT,
    CLOSED
  }

  private final DeltaLog deltaLog;
  private final Membership membership;
  private final StateCodec<T> codec;
  private final Duration operationTimeout;
  private final Duration endedRetention;
  private final Duration sweepInterval;
  private final Executor callbacks;
  private final ExecutorService ownCallbacks;

  private final ExecutorService owner;
  private final ScheduledExecutorService timer;
  private final Replica replica = new Replica();

  // Read by any thread, written on the owner thread only.
  // Replaced once, when the replay is done (built in one pass, presized); then updated per record.
  private volatile ConcurrentHashMap<String, SessionView> views = new ConcurrentHashMap<>();
  private volatile Phase phase = Phase.NEW;
  private volatile Member self;
  private volatile Thread ownerThread;

  // Owner-thread state.
  private final Map<Integer, Long> applied = new HashMap<>();
  private final Map<Integer, TreeMap<Long, List<CompletableFuture<Void>>>> waiters =
      new HashMap<>();
  private final Map<String, CompletableFuture<?>> keyTails = new HashMap<>();
  // False while the start's replay runs: records then only go into the replica, and the views
  // and the untidy set are built from it in one pass afterwards.
  private boolean indexed;
  // Sessions with more than one slot or an ended winner: the only ones housekeeping looks at.
  private final Set<String> untidy = new java.util.HashSet<>();

  private final Set<CompletableFuture<?>> pendingWrites = ConcurrentHashMap.newKeySet();
  private final List<Consumer<MemberEvent>> memberListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<SessionChange<T>>> changeListeners = new CopyOnWriteArrayList<>();
  private final AtomicLong appliedRecords = new AtomicLong();
  // Records for the owner thread: LogEntry from the log's reader, OwnWrite at this node's acks.
  private final java.util.concurrent.ConcurrentLinkedQueue<Object> inbox =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.concurrent.atomic.AtomicBoolean draining =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile long metadataBytes;
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private AutoCloseable membershipSubscription;
  private ScheduledFuture<?> sweeper;
  private CompletableFuture<StateHandoff<T>> started;
  private CompletableFuture<Void> left;

  private StateHandoff(Builder<T> b) {
    this.deltaLog = b.deltaLog;
    this.membership = b.membership;
    this.codec = b.codec;
    this.operationTimeout = b.operationTimeout;
    this.endedRetention = b.endedRetention;
    this.sweepInterval = b.sweepInterval;
    String name = b.name;
    this.owner =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "handoff-owner-" + name);
              t.setDaemon(true);
              ownerThread = t;
              return t;
            });
    this.timer = Executors.newSingleThreadScheduledExecutor(daemon("handoff-timer-" + name));
    if (b.callbackExecutor != null) {
      this.callbacks = b.callbackExecutor;
      this.ownCallbacks = null;
    } else {
      this.ownCallbacks = Executors.newSingleThreadExecutor(daemon("handoff-callbacks-" + name));
      this.callbacks = ownCallbacks;
    }
  }

  /** A builder; {@code deltaLog}, {@code membership} and {@code codec} are required. */
  public static <T> Builder<T> builder() {
    return new Builder<>();
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Joins the membership (as STARTING) while it replays the log to the end offsets it reads at
   * start, then announces RUNNING. The future completes when this node is ready to serve; it
   * completes exceptionally if the membership or the log cannot be started (the message says why).
   * Calling it again returns the same future.
   */
  public synchronized CompletableFuture<StateHandoff<T>> start() {
    if (started != null) {
      return started;
    }
    if (phase != Phase.NEW) {
      return CompletableFuture.failedFuture(new HandoffException.Left("closed before start"));
    }
    phase = Phase.STARTING;
    long t0 = System.nanoTime();
    // Joining the membership and replaying the log do not depend on each other: run them at once,
    // so a node is ready after the longer of the two, not their sum. Either failing fails start.
    CompletableFuture<Member> joined =
        membership
            .start()
            .thenApply(
                me -> {
                  self = me;
                  membershipSubscription = membership.subscribe(this::onMemberEvent);
                  log.info("{} joined the cluster", me.writerId());
                  return me;
                });
    CompletableFuture<Void> replayed = deltaLog.start(this::onEntry);
    var both = new CompletableFuture<Void>();
    joined.whenComplete(
        (v, e) -> {
          if (e != null) {
            both.completeExceptionally(e);
          }
        });
    replayed.whenComplete(
        (v, e) -> {
          if (e != null) {
            both.completeExceptionally(e);
          }
        });
    CompletableFuture.allOf(joined, replayed).thenRun(() -> both.complete(null));
    started =
        both.thenComposeAsync(v -> onOwner(this::afterReplay), owner)
            .thenCompose(v -> membership.announce(MemberState.RUNNING))
            .thenApply(
                v -> {
                  synchronized (this) {
                    if (phase == Phase.STARTING) {
                      phase = Phase.READY;
                    }
                  }
                  long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                  log.info(
                      "{} ready after {} ms: {} live sessions, {} records replayed",
                      self.writerId(),
                      ms,
                      views.size(),
                      appliedRecords.get());
                  long every = sweepInterval.toMillis();
                  sweeper =
                      timer.scheduleWithFixedDelay(
                          () -> owner.execute(this::sweep), every, every, TimeUnit.MILLISECONDS);
                  return this;
                });
    return started;
  }

  /**
   * Leaves the cluster gracefully: refuses new stashes and pickups, waits until every write this
   * node made is acknowledged by the log, then announces LEAVING and removes this node from the
   * membership so peers see {@code MemberDown(LEFT)} at once. Stashed sessions stay in the log for
   * the next owner. Idempotent: later calls return the same future.
   */
  public synchronized CompletableFuture<Void> leave() {
    if (left != null) {
      return left;
    }
    if (phase == Phase.NEW || phase == Phase.CLOSED) {
      left = CompletableFuture.completedFuture(null);
      return left;
    }
    phase = Phase.LEAVING;
    var pending = new ArrayList<>(pendingWrites);
    log.info("{} leaving: waiting for {} pending writes", describeSelf(), pending.size());
    left =
        CompletableFuture.allOf(
                pending.stream()
                    .map(f -> f.handle((r, e) -> null))
                    .toArray(CompletableFuture[]::new))
            .thenCompose(v -> membership.leave())
            .thenRun(
                () -> {
                  synchronized (this) {
                    if (phase == Phase.LEAVING) {
                      phase = Phase.LEFT;
                    }
                  }
                  log.info("{} left the cluster", describeSelf());
                });
    return left;
  }

  /**
   * Stops everything: the log reader, the membership (peers see this node expire unless it has
   * {@link #leave() left}), the threads. Pending operations complete exceptionally. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (phase == Phase.CLOSED) {
        return;
      }
      phase = Phase.CLOSED;
    }
    if (sweeper != null) {
      sweeper.cancel(false);
    }
    closeQuietly(membershipSubscription);
    closeQuietly(deltaLog);
    closeQuietly(membership);
    // Fail what waits for records that will now never be applied, then stop the owner thread.
    try {
      owner.execute(this::failWaiters);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // already stopped
    }
    owner.shutdown();
    try {
      if (!owner.awaitTermination(2, TimeUnit.SECONDS)) {
        owner.shutdownNow();
      }
    } catch (InterruptedException e) {
      owner.shutdownNow();
      Thread.currentThread().interrupt();
    }
    timer.shutdownNow();
    if (ownCallbacks != null) {
      ownCallbacks.shutdown();
    }
    closed.completeExceptionally(new HandoffException.Left("StateHandoff closed"));
  }

  /**
   * Installs a JVM shutdown hook (SIGTERM, normal exit) that runs {@code stashAll} — the
   * application's "stash every session I host" — then {@link #leave()} and {@link #close()}, all
   * within {@code budget}. Returns the hook thread (for {@link Runtime#removeShutdownHook}).
   */
  public Thread leaveOnShutdown(Duration budget, Runnable stashAll) {
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(stashAll, "stashAll");
    Thread hook =
        new Thread(
            () -> {
              long deadline = System.nanoTime() + budget.toNanos();
              try {
                stashAll.run();
                leave().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
              } catch (TimeoutException e) {
                log.error(
                    "{} could not leave within {}: some stashes may be unacknowledged",
                    describeSelf(),
                    budget);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (ExecutionException | RuntimeException e) {
                log.error("{} failed to leave cleanly", describeSelf(), e);
              } finally {
                close();
              }
            },
            "handoff-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  /** True once {@link #start()} completed and until {@link #leave()} or {@link #close()}. */
  public boolean isReady() {
    return phase == Phase.READY;
  }

  /**
   * This node as the membership knows it now. Its {@link Member#writerId()} changes if the
   * membership was lost and re-registered.
   *
   * @throws HandoffException.NotReady before the membership has started
   */
  public Member self() {
    Member me = self;
    if (me == null) {
      throw new HandoffException.NotReady("not started: call start() first");
    }
    return me;
  }

  // ------------------------------------------------------------------ API

  /**
   * Stores {@code state} as the latest state of session {@code key}, owned by this node. The future
   * completes when the log has durably acknowledged it (invariant I3): from then on the state
   * survives this process being killed and is what any node's {@link #pickup} returns, or something
   * newer. A session nobody owns yet (new, or ended) is claimed by the stash; a session that an
   * earlier incarnation of this member owned is re-claimed.
   *
   * <p>Fails with {@link HandoffException.Fenced} if another node owns the session or this node
   * lost its membership, {@link HandoffException.TooLarge} (before anything is sent) if the encoded
   * state exceeds {@link DeltaLog#maxStateBytes()}, {@link HandoffException.Left} after {@link
   * #leave()}, {@link HandoffException.NotReady} before {@link #start()} completed.
   */
  public CompletableFuture<Void> stash(String key, T state) {
    requireKey(key);
    Objects.requireNonNull(state, "state");
    HandoffException refused = refuseWrite("stash", key);
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    byte[] bytes;
    try {
      bytes = codec.encode(state);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(
          new HandoffException("cannot encode the state of session '" + key + "'", e));
    }
    int limit = deltaLog.maxStateBytes();
    if (bytes.length > limit) {
      return CompletableFuture.failedFuture(
          new HandoffException.TooLarge(
              "state of session '"
                  + key
                  + "' is "
                  + bytes.length
                  + " bytes encoded, over the limit of "
                  + limit
                  + " bytes; nothing was sent"));
    }
    // The caller's future completes at the acknowledgement; the session's queue of operations
    // moves on once this node has applied the record, which it does right after the ack.
    var acked = new CompletableFuture<Void>();
    onKey(key, () -> doStash(key, bytes, acked))
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                acked.completeExceptionally(e);
              } else {
                acked.complete(null);
              }
            });
    return track(timed("stash", key, acked));
  }

  /**
   * Takes ownership of session {@code key} for this node and returns its latest state. First waits
   * until every record acknowledged before the call is applied here (so a predecessor's completed
   * stash is never missed, invariant I4), then appends a claim and decides it by the log's order:
   * of concurrent pickups anywhere in the cluster exactly one wins (I5).
   *
   * <p>Returns empty if the session does not exist (never stashed, or ended). Returns the state
   * without a new claim if this node already owns it. Fails with {@link
   * HandoffException.OwnedElsewhere} if another node won the race or is running the session (a
   * RUNNING member other than this one owns it; sessions of LEAVING, gone or earlier incarnations
   * of this member are taken).
   */
  public CompletableFuture<Optional<T>> pickup(String key) {
    requireKey(key);
    HandoffException refused = refuseWrite("pickup", key);
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    CompletableFuture<Optional<byte[]>> claimed =
        barrier().thenCompose(v -> onKey(key, () -> doPickup(key)));
    return track(timed("pickup", key, claimed.thenApply(o -> o.map(codec::decode))));
  }

  /**
   * Ends session {@code key}: it reads as absent everywhere, and its records leave the log (a Kafka
   * tombstone for each) once the ended-retention has passed. Only the owner may end a session.
   */
  public CompletableFuture<Void> end(String key) {
    requireKey(key);
    HandoffException refused = refuseWrite("end", key);
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    return track(timed("end", key, onKey(key, () -> doEnd(key))));
  }

  /**
   * The session's state as this node's replica holds it now, without claiming it and without
   * waiting for the log. Use {@link #read} to see every acknowledged write first.
   *
   * @throws dev.handoff.spi.StateCodecException if the stored bytes cannot be decoded
   */
  public Optional<T> peek(String key) {
    requireKey(key);
    SessionView v = views.get(key);
    return v == null || v.ended() ? Optional.empty() : Optional.of(codec.decode(v.value()));
  }

  /** Like {@link #peek}, after every record acknowledged before the call has been applied here. */
  public CompletableFuture<Optional<T>> read(String key) {
    requireKey(key);
    return barrier().thenApply(v -> peek(key));
  }

  /**
   * The writer id ({@code memberId#epoch}) that owns the session now, as this replica knows it;
   * empty if the session does not exist.
   */
  public Optional<String> owner(String key) {
    requireKey(key);
    SessionView v = views.get(key);
    return v == null || v.ended() ? Optional.empty() : Optional.of(v.owner());
  }

  /** The live session keys this replica knows, sorted. A snapshot. */
  public Set<String> keys() {
    var out = new TreeSet<String>();
    views.forEach(
        (k, v) -> {
          if (!v.ended()) {
            out.add(k);
          }
        });
    return out;
  }

  /** The live sessions owned by this incarnation, sorted. */
  public Set<String> ownedKeys() {
    String me = self().writerId();
    return keysWhere(v -> v.owner().equals(me));
  }

  /**
   * The live sessions owned by any incarnation of member {@code memberId} (for example a pod that
   * restarts under the same name picks these up), sorted.
   */
  public Set<String> keysOwnedBy(String memberId) {
    Objects.requireNonNull(memberId, "memberId");
    return keysWhere(v -> memberIdOf(v.owner()).equals(memberId));
  }

  /**
   * Decoded copy of every live session. Decodes every state: meant for inspection and tests. A
   * state this node cannot decode (for example written with a schema it does not know) is left out
   * and logged, never thrown.
   */
  public Map<String, T> snapshot() {
    var out = new TreeMap<String, T>();
    views.forEach(
        (k, v) -> {
          if (!v.ended()) {
            try {
              out.put(k, codec.decode(v.value()));
            } catch (dev.handoff.spi.StateCodecException e) {
              log.warn("snapshot leaves out session '{}': {}", k, e.getMessage());
            }
          }
        });
    return out;
  }

  /**
   * The cluster's live members, this node included, as last seen by the membership (empty before
   * start).
   */
  public List<Member> members() {
    return self == null ? List.of() : membership.members();
  }

  /**
   * Adds a listener for member events ({@code MemberUp}, {@code MemberDown}, {@code MemberChanged},
   * and this node's own {@code ConnectionChanged}). Events arrive in order on the callback
   * executor. Returns a handle whose {@code close()} removes the listener.
   */
  public AutoCloseable onMemberEvent(Consumer<MemberEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    memberListeners.add(listener);
    return () -> memberListeners.remove(listener);
  }

  /**
   * Adds a listener for session changes made by other nodes, delivered after this node is ready, in
   * log order per session, on the callback executor. Returns a handle that removes it.
   */
  public AutoCloseable onRemoteChange(Consumer<SessionChange<T>> listener) {
    Objects.requireNonNull(listener, "listener");
    changeListeners.add(listener);
    return () -> changeListeners.remove(listener);
  }

  /** Counters for monitoring. */
  public Stats stats() {
    return new Stats(
        views.size(),
        appliedRecords.get(),
        deltaLog.skippedRecords(),
        pendingWrites.size(),
        metadataBytes);
  }

  /**
   * Monitoring counters.
   *
   * @param sessions sessions this replica holds (live and recently ended)
   * @param appliedRecords log records applied since start
   * @param skippedRecords log records skipped because they could not be decoded
   * @param pendingWrites writes not yet acknowledged
   * @param metadataBytes estimated heap spent on replica bookkeeping beyond keys and states, as of
   *     the last housekeeping sweep
   */
  public record Stats(
      int sessions,
      long appliedRecords,
      long skippedRecords,
      int pendingWrites,
      long metadataBytes) {}

  // ------------------------------------------------------------------ owner thread: operations

  private CompletableFuture<Void> doStash(String key, byte[] bytes, CompletableFuture<Void> acked) {
    requireWritable("stash", key);
    String me = self.writerId();
    SessionView current = views.get(key);
    SlotRecord rec;
    try {
      if (current != null
          && !current.ended()
          && !current.owner().equals(me)
          && isEarlierIncarnationOfMe(current.owner())) {
        rec = replica.claim(key, me, bytes);
      } else {
        rec = replica.stash(key, me, bytes);
      }
    } catch (FencingException e) {
      throw fenced(e);
    }
    boolean claim = rec.state().claimOffset() == SlotState.SELF;
    if (!claim) {
      // A plain stash is durable at the acknowledgement, and applied here at once: the join does
      // not depend on order, and the read-back of the same record is then a no-op.
      return appendAndApplyAtAck(rec, acked).thenApply(pos -> null);
    }
    // A claim is done only once decided, after everything up to it was read.
    return appendAndApply(rec).thenCompose(pos -> decide(key, me, pos).thenApply(v -> null));
  }

  private CompletableFuture<Optional<byte[]>> doPickup(String key) {
    requireWritable("pickup", key);
    String me = self.writerId();
    SessionView current = views.get(key);
    if (current == null || current.ended()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    if (current.owner().equals(me)) {
      return CompletableFuture.completedFuture(Optional.of(current.value()));
    }
    Member running = runningOwner(current.owner());
    if (running != null) {
      throw new HandoffException.OwnedElsewhere(
          "session '"
              + key
              + "' is owned by "
              + current.owner()
              + ", a RUNNING member; it can be picked up once that member leaves or goes down",
          current.owner());
    }
    SlotRecord claim = replica.claim(key, me, null);
    return appendAndApply(claim)
        .thenCompose(pos -> decide(key, me, pos))
        .thenApply(view -> Optional.of(view.value()));
  }

  private CompletableFuture<Void> doEnd(String key) {
    requireWritable("end", key);
    String me = self.writerId();
    SlotRecord rec;
    try {
      rec = replica.end(key, me);
    } catch (FencingException e) {
      throw fenced(e);
    } catch (IllegalStateException e) {
      return CompletableFuture.completedFuture(null); // nothing to end
    }
    return appendAndApply(rec).thenCompose(pos -> cleanup(key));
  }

  /** After a claim was applied: won, or lost to someone (then tidy our losing slot). */
  private CompletableFuture<SessionView> decide(String key, String me, LogPosition pos) {
    ClaimOutcome outcome = replica.claimOutcome(key, me, pos.offset());
    if (outcome instanceof ClaimOutcome.Won won) {
      // The winner's tombstones only target other writers' dead slots: no need to wait for them
      // (leave() still does, through pendingWrites).
      cleanup(key);
      return CompletableFuture.completedFuture(won.session());
    }
    String winner =
        outcome instanceof ClaimOutcome.Lost lost && lost.winner() != null
            ? lost.winner().owner()
            : "nobody";
    return cleanup(key)
        .thenApply(
            v -> {
              throw new HandoffException.OwnedElsewhere(
                  "session '" + key + "' was claimed concurrently; " + winner + " won", winner);
            });
  }

  /** Appends the tombstones that make other slots of {@code key} go away (invariant I6). */
  private CompletableFuture<Void> cleanup(String key) {
    Member me = self;
    if (me == null || !membership.writable()) {
      return CompletableFuture.completedFuture(null);
    }
    List<SlotRecord> tombstones =
        replica.slotsToTombstone(
            key, me.writerId(), System.currentTimeMillis(), endedRetention.toMillis());
    if (tombstones.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    var appends = new ArrayList<CompletableFuture<LogPosition>>();
    for (SlotRecord t : tombstones) {
      appends.add(track(deltaLog.append(t)));
    }
    return CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new))
        .handle(
            (v, e) -> {
              if (e != null) {
                log.warn("tombstoning old slots of session '{}' failed; will retry", key, e);
              }
              return null;
            });
  }

  /** Appends, then completes (on the owner thread) once the reader has applied the record. */
  private CompletableFuture<LogPosition> appendAndApply(SlotRecord rec) {
    return deltaLog
        .append(rec)
        .thenComposeAsync(pos -> applied(pos.partition(), pos.offset()).thenApply(v -> pos), owner);
  }

  /**
   * Appends; at the ack completes {@code onAck} and hands the record, at its position, to the owner
   * thread, which applies it without waiting for the reader; the result completes there.
   */
  private CompletableFuture<LogPosition> appendAndApplyAtAck(
      SlotRecord rec, CompletableFuture<Void> onAck) {
    var done = new CompletableFuture<LogPosition>();
    deltaLog
        .append(rec)
        .whenComplete(
            (pos, e) -> {
              if (e != null) {
                done.completeExceptionally(e);
                return;
              }
              toOwner(new OwnWrite(new LogEntry(rec, pos.partition(), pos.offset()), done));
              onAck.complete(null);
            });
    return done;
  }

  /** A record this node wrote, acknowledged at {@code entry}'s position. */
  private record OwnWrite(LogEntry entry, CompletableFuture<LogPosition> done) {}

  private CompletableFuture<Void> applied(int partition, long offset) {
    Long done = applied.get(partition);
    if (done != null && done >= offset) {
      return CompletableFuture.completedFuture(null);
    }
    var f = new CompletableFuture<Void>();
    waiters
        .computeIfAbsent(partition, p -> new TreeMap<>())
        .computeIfAbsent(offset, o -> new ArrayList<>())
        .add(f);
    return f;
  }

  /** Runs {@code op} on the owner thread after every earlier operation on {@code key}. */
  private <R> CompletableFuture<R> onKey(String key, Supplier<CompletableFuture<R>> op) {
    return onOwner(
            () -> {
              CompletableFuture<?> tail = keyTails.get(key);
              CompletableFuture<R> result;
              if (tail == null) {
                result = runNow(op); // nothing pending on this session: no extra hop
              } else {
                result = tail.handle((r, e) -> null).thenComposeAsync(v -> op.get(), owner);
              }
              CompletableFuture<?> newTail = result.handle((r, e) -> null);
              keyTails.put(key, newTail);
              newTail.thenRun(() -> onOwnerThread(() -> keyTails.remove(key, newTail)));
              return result;
            })
        .thenCompose(f -> f);
  }

  private static <R> CompletableFuture<R> runNow(Supplier<CompletableFuture<R>> op) {
    try {
      return op.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Runs {@code r} now if on the owner thread, else queues it there. */
  private void onOwnerThread(Runnable r) {
    if (Thread.currentThread() == ownerThread) {
      r.run();
    } else {
      try {
        owner.execute(r);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closed
      }
    }
  }

  private <R> CompletableFuture<R> onOwner(Supplier<R> task) {
    try {
      return CompletableFuture.supplyAsync(task, owner);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new HandoffException.Left("StateHandoff closed"));
    }
  }

  // ------------------------------------------------------------------ owner thread: events

  /** The log's sink: called on the log's reader thread; hands the record to the owner thread. */
  private void onEntry(LogEntry entry) {
    toOwner(entry);
  }

  private void toOwner(Object item) {
    inbox.add(item);
    // One owner task drains everything queued so far (not one task per record). Any record
    // queued before a later owner task is applied before that task runs: either a drain was
    // already scheduled ahead of it, or this call schedules one.
    if (!draining.getAndSet(true)) {
      try {
        owner.execute(this::drainInbox);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing: the record is in the log and will be replayed by the next start
      }
    }
  }

  private void drainInbox() {
    draining.set(false);
    Object item;
    while ((item = inbox.poll()) != null) {
      if (item instanceof OwnWrite w) {
        apply(w.entry(), false);
        w.done().complete(new LogPosition(w.entry().partition(), w.entry().offset()));
      } else {
        apply((LogEntry) item, true);
      }
    }
  }

  /**
   * Applies a record to the replica. {@code fromLog}: the reader delivered it, so every record
   * before it in its partition has been applied too (barriers and claim decisions wait on that);
   * otherwise it is this node's own acknowledged write, applied ahead of the reader.
   */
  private void apply(LogEntry entry, boolean fromLog) {
    String key = entry.record().session();
    boolean notify = fromLog && phase == Phase.READY && !changeListeners.isEmpty();
    SessionView before = notify ? views.get(key) : null; // only notifications compare views
    boolean changed = replica.apply(entry);
    SessionView after = before;
    if (changed && indexed) {
      after = replica.read(key).orElse(null);
      if (after == null) {
        views.remove(key);
      } else {
        views.put(key, after);
      }
      if (replica.needsTidying(key)) {
        untidy.add(key);
      }
    }
    if (!fromLog) {
      return;
    }
    appliedRecords.incrementAndGet();
    applied.merge(entry.partition(), entry.offset(), Math::max);
    TreeMap<Long, List<CompletableFuture<Void>>> w = waiters.get(entry.partition());
    if (w != null) {
      var ready = w.headMap(entry.offset(), true);
      var release = new ArrayList<CompletableFuture<Void>>();
      ready.values().forEach(release::addAll);
      ready.clear();
      release.forEach(f -> f.complete(null));
    }
    if (notify
        && changed
        && after != null
        && !Objects.equals(before, after)
        && !entry.record().writer().equals(self.writerId())) {
      notifyChange(after);
    }
  }

  private Void afterReplay() {
    replica.markCaughtUp();
    var built =
        new ConcurrentHashMap<String, SessionView>(
            Math.max(16, (int) Math.min(1 << 30, replica.knownSessionCount() * 4L / 3 + 1)));
    replica.forEachView(
        (view, needsTidying) -> {
          built.put(view.session(), view);
          if (needsTidying) {
            untidy.add(view.session());
          }
        });
    views = built;
    indexed = true;
    var live = new java.util.HashSet<String>();
    membership.members().forEach(m -> live.add(m.writerId()));
    live.add(self.writerId());
    for (String w : replica.writers()) {
      if (!live.contains(w)) {
        replica.retireWriter(w);
      }
    }
    metadataBytes = replica.metadataBytes();
    return null;
  }

  private void onMemberEvent(MemberEvent event) {
    if (event instanceof MemberEvent.MemberDown down) {
      log.info("member down: {} ({})", down.member().writerId(), down.reason());
      owner.execute(() -> replica.retireWriter(down.member().writerId()));
    } else if (event instanceof MemberEvent.ConnectionChanged cc) {
      if (cc.state() == MemberEvent.ConnectionState.REREGISTERED) {
        Member old = self;
        self = cc.self();
        log.warn(
            "membership re-registered after a loss: {} is now {}; sessions of the old"
                + " incarnation are re-claimed on their next stash",
            old == null ? "?" : old.writerId(),
            cc.self().writerId());
        if (old != null) {
          owner.execute(() -> replica.retireWriter(old.writerId()));
        }
      } else if (cc.state() == MemberEvent.ConnectionState.LOST) {
        log.warn("membership LOST: writes are refused until re-registered");
      }
    } else {
      log.debug("member event: {}", event);
    }
    for (Consumer<MemberEvent> l : memberListeners) {
      callbacks.execute(() -> safely(() -> l.accept(event)));
    }
  }

  private void notifyChange(SessionView view) {
    for (Consumer<SessionChange<T>> l : changeListeners) {
      callbacks.execute(
          () ->
              safely(
                  () -> {
                    Optional<T> state =
                        view.ended() ? Optional.empty() : Optional.of(codec.decode(view.value()));
                    l.accept(
                        new SessionChange<>(view.session(), view.owner(), view.epoch(), state));
                  }));
    }
  }

  private void failWaiters() {
    var closedError = new HandoffException.Left("StateHandoff closed");
    waiters
        .values()
        .forEach(
            w -> w.values().forEach(l -> l.forEach(f -> f.completeExceptionally(closedError))));
    waiters.clear();
  }

  /** Periodic housekeeping on the owner thread: tombstones and tombstone-marker GC (I6). */
  private void sweep() {
    if (phase != Phase.READY) {
      return;
    }
    try {
      for (var it = untidy.iterator(); it.hasNext(); ) {
        String key = it.next();
        if (!replica.needsTidying(key)) {
          it.remove();
        } else if (!keyTails.containsKey(key)) {
          cleanup(key);
        }
      }
      applied.forEach((p, o) -> replica.forgetTombstonesBefore(p, o + 1));
      metadataBytes = replica.metadataBytes();
    } catch (RuntimeException e) {
      log.warn("housekeeping sweep failed; will retry", e);
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * The log's barrier hands records to the sink; the sink queues them for the owner thread. A task
   * queued on the owner thread after the barrier runs after all of them.
   */
  private CompletableFuture<Void> barrier() {
    return deltaLog.barrier().thenApplyAsync(v -> null, owner);
  }

  private HandoffException refuseWrite(String op, String key) {
    return switch (phase) {
      case NEW, STARTING ->
          new HandoffException.NotReady(
              "cannot " + op + " session '" + key + "': not ready (start() has not completed)");
      case LEAVING, LEFT ->
          new HandoffException.Left(
              "cannot " + op + " session '" + key + "': this node is leaving the cluster");
      case CLOSED -> new HandoffException.Left("cannot " + op + " session '" + key + "': closed");
      case READY -> null;
    };
  }

  private void requireWritable(String op, String key) {
    if (!membership.writable()) {
      throw new HandoffException.Fenced(
          "cannot "
              + op
              + " session '"
              + key
              + "': this node lost its membership session and has not re-registered yet");
    }
  }

  private HandoffException.Fenced fenced(FencingException e) {
    return new HandoffException.Fenced(
        e.getMessage() + "; it must be picked up again before this node can write it");
  }

  private boolean isEarlierIncarnationOfMe(String writer) {
    Member me = self;
    return memberIdOf(writer).equals(me.id()) && epochOf(writer) < me.epoch();
  }

  private Member runningOwner(String writer) {
    Member me = self;
    if (memberIdOf(writer).equals(me.id())) {
      return null; // this node, or an earlier incarnation of it
    }
    for (Member m : membership.members()) {
      if (m.writerId().equals(writer) && m.state() == MemberState.RUNNING) {
        return m;
      }
    }
    return null;
  }

  static String memberIdOf(String writer) {
    int i = writer.lastIndexOf('#');
    return i < 0 ? writer : writer.substring(0, i);
  }

  static long epochOf(String writer) {
    int i = writer.lastIndexOf('#');
    try {
      return i < 0 ? -1 : Long.parseLong(writer.substring(i + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private Set<String> keysWhere(java.util.function.Predicate<SessionView> p) {
    var out = new TreeSet<String>();
    views.forEach(
        (k, v) -> {
          if (!v.ended() && p.test(v)) {
            out.add(k);
          }
        });
    return Collections.unmodifiableSet(out);
  }

  private <R> CompletableFuture<R> timed(String op, String key, CompletableFuture<R> f) {
    return f.orTimeout(operationTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (r, e) -> {
              if (e == null) {
                return r;
              }
              Throwable cause =
                  e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (cause instanceof TimeoutException) {
                throw new HandoffException.Timeout(
                    op
                        + " of session '"
                        + key
                        + "' did not complete within "
                        + operationTimeout
                        + "; its outcome is unknown");
              }
              if (cause instanceof HandoffException he) {
                throw he;
              }
              throw new HandoffException(op + " of session '" + key + "' failed: " + cause, cause);
            });
  }

  private <R> CompletableFuture<R> track(CompletableFuture<R> f) {
    pendingWrites.add(f);
    f.whenComplete((r, e) -> pendingWrites.remove(f));
    return f;
  }

  private static void requireKey(String key) {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("session key must not be empty");
    }
  }

  private String describeSelf() {
    Member me = self;
    return me == null ? "handoff node" : me.writerId();
  }

  private static void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("listener failed", e);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.warn("closing {} failed", c, e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  // ------------------------------------------------------------------ builder

  /**
   * Builds a {@link StateHandoff}. Every option is checked by {@link #build()}; a bad one fails
   * with a message naming it.
   */
  public static final class Builder<T> {
    private DeltaLog deltaLog;
    private Membership membership;
    private StateCodec<T> codec;
    private Duration operationTimeout = Duration.ofSeconds(30);
    private Duration endedRetention = Duration.ofHours(1);
    private Duration sweepInterval = Duration.ofSeconds(30);
    private Executor callbackExecutor;
    private String name = "node";

    private Builder() {}

    /** The log every node reads (required), e.g. log-sync's {@code KafkaDeltaLog}. */
    public Builder<T> deltaLog(DeltaLog deltaLog) {
      this.deltaLog = deltaLog;
      return this;
    }

    /** Who is up (required), e.g. membership-zk's {@code ZkMembership}. */
    public Builder<T> membership(Membership membership) {
      this.membership = membership;
      return this;
    }

    /** How states become bytes (required), e.g. log-sync's {@code AvroStateCodec}. */
    public Builder<T> codec(StateCodec<T> codec) {
      this.codec = codec;
      return this;
    }

    /** How long stash, pickup and end may take before failing with a timeout. Default 30 s. */
    public Builder<T> operationTimeout(Duration timeout) {
      this.operationTimeout = timeout;
      return this;
    }

    /**
     * How long an ended session's last record stays in the log, keeping older owners fenced, before
     * it is tombstoned. Default 1 hour.
     */
    public Builder<T> endedRetention(Duration retention) {
      this.endedRetention = retention;
      return this;
    }

    /** How often housekeeping appends due tombstones. Default 30 s. */
    public Builder<T> sweepInterval(Duration interval) {
      this.sweepInterval = interval;
      return this;
    }

    /** Where listeners run. Default: one daemon thread of this instance. */
    public Builder<T> callbackExecutor(Executor executor) {
      this.callbackExecutor = executor;
      return this;
    }

    /** A name for this node's threads and logs. Default "node". */
    public Builder<T> name(String name) {
      this.name = name;
      return this;
    }

    /** Checks every option and builds; call {@link StateHandoff#start()} next. */
    public StateHandoff<T> build() {
      require(deltaLog != null, "deltaLog is required (for example a KafkaDeltaLog)");
      require(membership != null, "membership is required (for example a ZkMembership)");
      require(codec != null, "codec is required (for example an AvroStateCodec)");
      positive("operationTimeout", operationTimeout);
      positive("endedRetention", endedRetention);
      positive("sweepInterval", sweepInterval);
      require(name != null && !name.isBlank(), "name must not be blank");
      return new StateHandoff<>(this);
    }

    private static void positive(String option, Duration d) {
      require(d != null, option + " must not be null");
      require(!d.isNegative() && !d.isZero(), option + " must be positive, was " + d);
    }

    private static void require(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
