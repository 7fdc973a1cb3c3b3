package dev.handoff;

import dev.handoff.internal.crdt.SessionView;
import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.Membership;
import dev.handoff.spi.StateCodec;
import dev.handoff.spi.StateCodecException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
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
 * to it. Listeners run on a separate callback executor, so a slow listener never holds up the log;
 * the futures this node returns complete on the caller-facing executor (see {@link
 * StateHandoffBuilder#callbackExecutor}), never on the owner thread or a log client's thread, so a
 * dependent stage may block on another operation of the same node (one decided at once, such as a
 * stash refused as overloaded, is returned already completed). Operations on one session run one
 * after the other, in call order; different sessions proceed in parallel. If the log reader stops
 * for good, the node goes {@link NodeState#FAILED out of service}: pending and later operations
 * fail, and it leaves the membership so that others take its sessions.
 *
 * <p><b>Consistency.</b> Per session, successful {@code stash}, {@code pickup} and {@code end}
 * calls take effect in one order consistent with real time, wherever they ran: a stash that
 * completes successfully is seen by every later pickup (its state or a newer one), on every node,
 * after any crash, compaction or broker restart; a write whose node no longer owns the session —
 * another node claimed it, or this node's membership session expired or a newer incarnation of its
 * member id took over — fails with {@link HandoffException.Fenced} and never reports success; of
 * concurrent pickups exactly one wins. The log is the judge: a write completes only once this node
 * has read it back from the log and found that it counts, and it is issued only while the
 * membership is certain this node is still a member.
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

  private final DeltaLog deltaLog;
  private final Membership membership;
  private final StateCodec<T> codec;
  private final Listeners<T> listeners;
  private final OwnershipProtocol protocol;
  private final SessionIndex index;
  private final PendingOperations pending;

  private final NodeLifecycle lifecycle;
  private final Executor callerExecutor;
  private final Handovers<T> handovers;
  private volatile boolean acceptingHandovers = true;
  private final OperationRecorder recorder;
  private volatile Throwable lastError;
  private CompletableFuture<StateHandoff<T>> started;

  StateHandoff(StateHandoffBuilder<T> b) {
    this.deltaLog = b.deltaLog;
    this.membership = b.membership;
    this.codec = b.codec;
    this.recorder = or(b.operationRecorder, OperationRecorder.NONE);
    Duration operationTimeout =
        or(b.operationTimeout, StateHandoffBuilder.DEFAULT_OPERATION_TIMEOUT);
    this.pending = new PendingOperations(operationTimeout);
    String name = or(b.name, StateHandoffBuilder.DEFAULT_NAME);
    this.callerExecutor = or(b.callbackExecutor, ForkJoinPool.commonPool());
    this.listeners = new Listeners<>(codec, b.callbackExecutor, name);
    this.protocol =
        new OwnershipProtocol(
            deltaLog,
            membership,
            name,
            or(b.endedRetention, StateHandoffBuilder.DEFAULT_ENDED_RETENTION),
            or(b.maxClockSkew, StateHandoffBuilder.DEFAULT_MAX_CLOCK_SKEW),
            b.maxPendingBytes > 0
                ? b.maxPendingBytes
                : StateHandoffBuilder.defaultMaxPendingBytes(b.deltaLog),
            // Under sustained overload an accepted stash completes within about a second (well
            // within the operation timeout), or the stash is refused.
            min(Duration.ofSeconds(1), operationTimeout.dividedBy(4)),
            pending::track);
    this.index = protocol.index();
    this.lifecycle =
        new NodeLifecycle(
            deltaLog,
            membership,
            protocol,
            pending,
            listeners,
            or(b.sweepInterval, StateHandoffBuilder.DEFAULT_SWEEP_INTERVAL),
            name);
    this.handovers = new Handovers<>(protocol, membership, codec, listeners.executor());
    protocol.receiveHandovers(
        () ->
            lifecycle.phase() == NodeState.RUNNING
                && acceptingHandovers
                && !handovers.draining()
                && protocol.loop().writeBytes() < protocol.maxPendingBytes() / 2,
        handovers::arrived);
    protocol.reportRemoteChanges(
        () -> lifecycle.phase() == NodeState.RUNNING && listeners.hasChangeListeners(),
        listeners::remoteChange);
  }

  /** A builder; {@code deltaLog}, {@code membership} and {@code codec} are required. */
  public static <T> StateHandoffBuilder<T> builder() {
    return new StateHandoffBuilder<>();
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Joins the membership (as STARTING) while it replays the log to the end offsets it reads at
   * start, then announces RUNNING. The future completes when this node is ready to serve; it
   * completes exceptionally if the membership or the log cannot be started (the message says why).
   * Idempotent: every call returns the same future; after {@link #close()} it returns a failed one.
   */
  public synchronized CompletableFuture<StateHandoff<T>> start() {
    if (started == null) {
      started = lifecycle.start().thenApply(v -> this);
    }
    return started;
  }

  /**
   * Leaves the cluster gracefully: refuses new stashes and pickups, waits until every write this
   * node made is acknowledged by the log, then announces LEAVING and removes this node from the
   * membership so peers see {@code MemberDown(LEFT)} at once. Stashed sessions stay in the log for
   * the next owner. Idempotent: later calls return the same future.
   */
  public CompletableFuture<Void> leave() {
    return lifecycle.leave();
  }

  /**
   * Stops everything: the log reader, the membership (peers see this node expire unless it has
   * {@link #leave() left}), the threads. Pending operations complete exceptionally. Idempotent.
   */
  @Override
  public void close() {
    lifecycle.close();
  }

  /**
   * Installs a JVM shutdown hook (SIGTERM, normal exit) that runs {@code stashAll} — the
   * application's "stash every session I host" — then {@link #leave()} and {@link #close()}, all
   * within {@code budget}. Returns the hook thread (for {@link Runtime#removeShutdownHook}).
   */
  public Thread leaveOnShutdown(Duration budget, Runnable stashAll) {
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(stashAll, "stashAll");
    return ShutdownHooks.install(() -> ShutdownHooks.stashAndLeave(this, budget, stashAll));
  }

  /**
   * Installs a JVM shutdown hook (SIGTERM, normal exit) that moves this node's sessions away within
   * {@code budget}, then {@link #leave() leaves} and {@link #close() closes}: if another member is
   * RUNNING, it {@link #drain drains} to the newest application version (three quarters of the
   * budget at most); what is still owned here after that — nobody took it, or no member is running
   * — is stopped and stashed for a successor that {@link #adopt adopts} it. Returns the hook
   * thread.
   */
  public Thread leaveOnShutdown(Duration budget, SessionMover<T> mover) {
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(mover, "mover");
    return ShutdownHooks.install(() -> ShutdownHooks.moveAndLeave(this, handovers, budget, mover));
  }

  /** Where this node is in its life: a snapshot. */
  public NodeState state() {
    return lifecycle.phase();
  }

  /**
   * Why this node is {@link NodeState#FAILED out of service} (the log reader stopped, or a newer
   * incarnation of this member took over); empty otherwise.
   */
  public Optional<Throwable> failure() {
    return lifecycle.failure();
  }

  /**
   * True once {@link #start()} completed and until {@link #leave()}, {@link #close()} or a failure
   * that takes the node out of service; what a readiness probe should read.
   */
  public boolean isReady() {
    return lifecycle.phase() == NodeState.RUNNING;
  }

  /**
   * This node as the membership knows it now. Its {@link Member#writerId()} changes if the
   * membership was lost and re-registered.
   *
   * @throws HandoffException.NotReady before the membership has started
   */
  public Member self() {
    Member me = protocol.self();
    if (me == null) {
      throw new HandoffException.NotReady("not started: call start() first");
    }
    return me;
  }

  // ------------------------------------------------------------------ writes

  /**
   * Stores {@code state} as the latest state of session {@code key}, owned by this node. The future
   * completes once the log has durably acknowledged the record and this node has read it back and
   * found that it counts (invariants I3, I5): from then on the state survives this process being
   * killed and is what any node's {@link #pickup} returns, or something newer. A session nobody
   * owns yet (new, or ended by this node) is claimed by the stash; one that another node ended
   * fails with {@link HandoffException.Fenced} until the end's retention has passed; a session that
   * an earlier incarnation of this member owned is re-claimed once that incarnation is no longer
   * registered. Stashes of one session are sent one at a time, in call order.
   *
   * <p>Fails with {@link HandoffException.Fenced} if another node owns the session, claimed it
   * before this write reached the log, or this node is not certain to be a member now, {@link
   * HandoffException.TooLarge} (before anything is sent) if the encoded state exceeds {@link
   * DeltaLog#maxStateBytes()}, {@link HandoffException.Left} after {@link #leave()}, {@link
   * HandoffException.NotReady} before {@link #start()} completed.
   */
  public CompletableFuture<Void> stash(String key, T state) {
    requireKey(key);
    Objects.requireNonNull(state, "state");
    long started = System.nanoTime();
    return recorded(
        OperationRecorder.Operation.STASH,
        started,
        lifecycle.admit(
            "stash",
            key,
            callerExecutor,
            () -> {
              byte[] bytes;
              try {
                bytes = codec.encode(state);
              } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(
                    new HandoffException("cannot encode the state of session '" + key + "'", e));
              }
              return pending.timed("stash", key, protocol.submitStash(key, bytes));
            }));
  }

  /**
   * Takes ownership of session {@code key} for this node and returns its latest state. First waits
   * until every record acknowledged before the call is applied here (so a predecessor's completed
   * stash is never missed, invariant I4), then appends a claim and decides it by the log's order:
   * of concurrent pickups anywhere in the cluster exactly one wins (I5).
   *
   * <p>Returns empty if the session does not exist (never stashed, or ended). Returns the state
   * without a new claim if this node already owns it. Fails with {@link
   * HandoffException.OwnedElsewhere} if another node won the race or may still be running the
   * session: a RUNNING member other than this one, or another incarnation of this member id that is
   * still registered (a newer one, or an earlier one that has not expired yet). Sessions of LEAVING
   * members and of members that are gone are taken. The state returned is the latest write that
   * counts, also one the previous owner made after this call read the log.
   */
  public CompletableFuture<Optional<T>> pickup(String key) {
    requireKey(key);
    long started = System.nanoTime();
    return recorded(
        OperationRecorder.Operation.PICKUP,
        started,
        lifecycle
            .admit(
                "pickup",
                key,
                callerExecutor,
                () ->
                    pending.timed(
                        "pickup",
                        key,
                        protocol
                            .barrier()
                            .thenCompose(v -> protocol.onSession(key, () -> protocol.pickup(key)))))
            .thenApply(o -> o.map(codec::decode)));
  }

  /**
   * Ends session {@code key}: it reads as absent everywhere, and its records leave the log (a Kafka
   * tombstone for each) once the ended-retention has passed. Only the owner may end a session.
   */
  public CompletableFuture<Void> end(String key) {
    requireKey(key);
    long started = System.nanoTime();
    return recorded(
        OperationRecorder.Operation.END,
        started,
        lifecycle.admit(
            "end",
            key,
            callerExecutor,
            () -> pending.timed("end", key, protocol.onSession(key, () -> protocol.end(key)))));
  }

  // ------------------------------------------------------------------ moving sessions

  /**
   * Hands session {@code key}, which this node owns, to the RUNNING member {@code memberId} with
   * {@code state} as its last state here. Stop the session before calling: from the call on, this
   * node may not write it. The transfer goes through the log, so it survives either side dying: a
   * write that hands the session over, then the receiver's claim (its {@link #onHandover} listeners
   * get the session once it owns it). Completes with the new owner once the receiver took it; with
   * this node's own writer id if the receiver refused or did not take it within {@code timeout} and
   * this node took it back (resume it then). Fails with {@link HandoffException.Fenced} if this
   * node does not own the session.
   */
  public CompletableFuture<WriterId> handover(
      String key, T state, String memberId, Duration timeout) {
    requireKey(key);
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(memberId, "memberId");
    Objects.requireNonNull(timeout, "timeout");
    return lifecycle.admit(
        "hand over", key, callerExecutor, () -> handovers.handover(key, state, memberId, timeout));
  }

  /**
   * Moves every session this node owns to other members and returns a handle on the progress; its
   * {@link Drain#done()} completes when every session is moved, kept or failed, or {@code budget}
   * is spent. Each session is stopped ({@link SessionMover#stop}) only when its own transfer
   * starts, and handed to the member {@code target} chooses among the RUNNING others; up to 256
   * transfers are in flight at once. A receiver that refuses (it is leaving, draining itself or
   * overloaded) or does not answer within 5 s makes the drain try one other receiver, then keep the
   * session ({@link SessionMover#kept}). While draining, this node refuses handovers to itself.
   */
  public Drain drain(HandoverTarget target, Duration budget, SessionMover<T> mover) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(mover, "mover");
    if (lifecycle.phase() != NodeState.RUNNING) {
      var d = new Drain(0);
      d.done.complete(new Drain.Result(0, 0, 0, 0, Duration.ZERO));
      return d;
    }
    return handovers.drain(ownedKeys(), target, budget, mover, describeSelf());
  }

  /**
   * Adopts the sessions of member {@code memberId}'s earlier incarnations — a pod restarted under
   * its own name, or a crash with no successor running: waits until no earlier incarnation is
   * registered any more (until then it may still write), reads the log to its end once, then claims
   * their sessions, up to 256 at once, retrying what fails transiently, and hands each adopted
   * session to {@code onAdopted} (on the callback executor) as soon as this node owns it. Completes
   * when all are settled; fails with {@link HandoffException.Timeout} if an earlier incarnation is
   * still registered after {@code budget}.
   */
  public CompletableFuture<Adoption> adopt(
      String memberId, Duration budget, java.util.function.Consumer<Arrival<T>> onAdopted) {
    Objects.requireNonNull(memberId, "memberId");
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(onAdopted, "onAdopted");
    return lifecycle.admit(
        "adopt the sessions of",
        memberId,
        callerExecutor,
        () -> handovers.adopt(memberId, budget, onAdopted, index));
  }

  /**
   * Whether this node takes sessions handed to it (default true). A node that is full says false:
   * senders then try another member or keep their sessions. A node that is not RUNNING, or is
   * draining itself, or holds more than half its {@code maxPendingBytes}, refuses anyway.
   */
  public void acceptHandovers(boolean accept) {
    this.acceptingHandovers = accept;
  }

  /**
   * Adds a listener for sessions handed to this node by another member's {@link #handover} or
   * {@link #drain}, called once this node owns each one, with its state: resume the session there.
   * Runs on the callback executor, in order. Returns a handle that removes it.
   */
  public AutoCloseable onHandover(java.util.function.Consumer<Arrival<T>> listener) {
    Objects.requireNonNull(listener, "listener");
    return handovers.addArrivalListener(listener);
  }

  // ------------------------------------------------------------------ reads

  /**
   * The session's state as this node's replica holds it now, without claiming it and without
   * waiting for the log. Use {@link #read} to see every acknowledged write first.
   *
   * @throws StateCodecException if the stored bytes cannot be decoded
   */
  public Optional<T> peek(String key) {
    requireKey(key);
    SessionView v = index.get(key);
    return v == null || v.ended() ? Optional.empty() : Optional.of(codec.decode(v.value()));
  }

  /** Like {@link #peek}, after every record acknowledged before the call has been applied here. */
  public CompletableFuture<Optional<T>> read(String key) {
    requireKey(key);
    long started = System.nanoTime();
    return recorded(
        OperationRecorder.Operation.READ,
        started,
        toCaller(protocol.barrier()).thenApply(v -> peek(key)));
  }

  /** The writer that owns the session now, as this replica knows it; empty if it does not exist. */
  public Optional<WriterId> owner(String key) {
    requireKey(key);
    SessionView v = index.get(key);
    return v == null || v.ended() ? Optional.empty() : Optional.of(WriterId.fromLog(v.owner()));
  }

  /** The live session keys this replica knows, sorted. A snapshot. */
  public Set<String> keys() {
    return index.liveKeys();
  }

  /** The live sessions owned by this incarnation, sorted. */
  public Set<String> ownedKeys() {
    String me = self().writerId();
    return index.liveKeysWhere(v -> v.owner().equals(me));
  }

  /**
   * The live sessions owned by any incarnation of member {@code memberId} (for example a pod that
   * restarts under the same name picks these up), sorted.
   */
  public Set<String> keysOwnedBy(String memberId) {
    Objects.requireNonNull(memberId, "memberId");
    return index.liveKeysWhere(v -> OwnershipProtocol.memberIdOf(v.owner()).equals(memberId));
  }

  /**
   * Decoded copy of every live session. Decodes every state: meant for inspection and tests. A
   * state this node cannot decode (for example written with a schema it does not know) is left out
   * and logged, never thrown.
   */
  public Map<String, T> snapshot() {
    var out = new TreeMap<String, T>();
    index.forEachLive(
        (k, v) -> {
          try {
            out.put(k, codec.decode(v.value()));
          } catch (StateCodecException e) {
            log.warn("snapshot leaves out session '{}': {}", k, e.getMessage());
          }
        });
    return out;
  }

  /**
   * The cluster's live members, this node included, as last seen by the membership (empty before
   * start).
   */
  public List<Member> members() {
    return protocol.self() == null ? List.of() : membership.members();
  }

  // ------------------------------------------------------------------ events and monitoring

  /**
   * Adds a listener for member events ({@code MemberUp}, {@code MemberDown}, {@code MemberChanged},
   * and this node's own {@code ConnectionChanged}). Events arrive in order on the callback
   * executor. Returns a handle whose {@code close()} removes the listener.
   */
  public AutoCloseable onMemberEvent(java.util.function.Consumer<MemberEvent> listener) {
    return listeners.addMemberListener(listener);
  }

  /**
   * Adds a listener for session changes made by other nodes, delivered after this node is ready, in
   * log order per session, on the callback executor. Returns a handle that removes it.
   */
  public AutoCloseable onRemoteChange(java.util.function.Consumer<SessionChange<T>> listener) {
    return listeners.addChangeListener(listener);
  }

  /**
   * What a readiness or liveness probe needs: state, replay progress, reader lag, whether the
   * membership is connected, and the last error. A snapshot; cheap enough to call on every probe.
   */
  public Health health() {
    NodeState state = lifecycle.phase();
    var progress = deltaLog.readerProgress();
    double replay = state == NodeState.RUNNING ? 100.0 : progress.replayPercent();
    boolean connected;
    try {
      connected = protocol.self() != null && membership.writable();
    } catch (RuntimeException e) {
      connected = false;
    }
    Throwable error = lifecycle.failure().orElse(lastError);
    return new Health(
        state,
        replay,
        progress.lag(),
        connected,
        Optional.ofNullable(error).map(e -> e.getClass().getSimpleName() + ": " + e.getMessage()));
  }

  /** Counters for monitoring. */
  public Stats stats() {
    return new Stats(
        index.size(),
        protocol.appliedRecords(),
        deltaLog.skippedRecords(),
        pending.size(),
        protocol.metadataBytes(),
        protocol.loop().writeBytes(),
        protocol.loop().coalescedWrites(),
        handovers.retries());
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
   * @param pendingBytes state bytes of the stashes queued or in flight (bounded by {@link
   *     StateHandoffBuilder#maxPendingBytes})
   * @param coalescedStashes stashes since start whose state was replaced by a newer stash of the
   *     same session before it was sent
   * @param retriedTransfers claims of a drain or an adoption tried again after a transient failure
   */
  public record Stats(
      int sessions,
      long appliedRecords,
      long skippedRecords,
      int pendingWrites,
      long metadataBytes,
      long pendingBytes,
      long coalescedStashes,
      long retriedTransfers) {}

  // ------------------------------------------------------------------ internals

  /** Tells the recorder how the operation ended; keeps an unexpected failure for health(). */
  private <R> CompletableFuture<R> recorded(
      OperationRecorder.Operation op, long started, CompletableFuture<R> f) {
    f.whenComplete(
        (r, e) -> {
          Throwable failure =
              e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (failure != null && unexpected(failure)) {
            lastError = failure;
          }
          try {
            recorder.record(op, System.nanoTime() - started, failure);
          } catch (RuntimeException thrown) {
            log.warn("operation recorder threw on {}; ignored", op, thrown);
          }
        });
    return f;
  }

  /** Errors a probe should see: timeouts and log failures, not refusals the caller expects. */
  private static boolean unexpected(Throwable failure) {
    return failure instanceof HandoffException.Timeout
        || !(failure instanceof HandoffException)
        || failure.getClass() == HandoffException.class;
  }

  /**
   * {@code f}, completed on the caller-facing executor: a caller's dependent stages never run on
   * the owner thread or a log client's thread, so blocking in them cannot stall the node.
   */
  private <R> CompletableFuture<R> toCaller(CompletableFuture<R> f) {
    var out = new CompletableFuture<R>();
    f.whenComplete(
        (r, e) -> {
          Runnable done =
              () -> {
                if (e != null) {
                  out.completeExceptionally(
                      e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                } else {
                  out.complete(r);
                }
              };
          try {
            callerExecutor.execute(done);
          } catch (RejectedExecutionException rejected) {
            done.run(); // the executor is shut down: complete here rather than never
          }
        });
    return out;
  }

  private static void requireKey(String key) {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("session key must not be empty");
    }
  }

  private String describeSelf() {
    return lifecycle.describeSelf();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static <V> V or(V value, V fallback) {
    return value != null ? value : fallback;
  }
}
