package dev.handoff;

import dev.handoff.internal.crdt.FencingException;
import dev.handoff.internal.crdt.Replica;
import dev.handoff.internal.crdt.SessionView;
import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.Membership;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim, stash and end protocol of one node, and how the node applies the log: everything that
 * reads or changes the replica runs here, on the owner thread (see the {@code
 * dev.handoff.internal.crdt} package documentation for the rules these records follow).
 *
 * <p><b>A write counts only once the log says so.</b> A Kafka acknowledgement says "stored", not
 * "counts": a node whose membership session expired while it was paused may still append, and its
 * record is then fenced by a newer owner's claim that came first. So every write (stash, end,
 * claim) completes only when this node's reader has delivered the record back in log order and the
 * record wins at that point. Three rules make a success true for every later winner:
 *
 * <ol>
 *   <li>A write is issued only while the membership says this node may write (a lease on its
 *       session, not its own view of the connection).
 *   <li>A session has at most one write of this node waiting for its read-back: the next one is
 *       issued after the previous one counted. So a write that counts is never superseded in
 *       compaction by a later write of the same node that is fenced.
 *   <li>A pickup's claim carries the state as the claimant read it; the session reads as the
 *       previous owner's last record if that landed between the claimant's read and its claim. The
 *       winner re-asserts the state under its own epoch before anything older is tombstoned.
 * </ol>
 *
 * An append whose outcome is unknown (a timed-out send) is resolved by reading the log to its end:
 * it either shows up (and is judged like any other) or it never will.
 */
final class OwnershipProtocol {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private final Replica replica;
  private final SessionIndex index = new SessionIndex();
  private final AppliedOffsets offsets = new AppliedOffsets();
  private final DeltaLog deltaLog;
  private final Membership membership;
  private final OwnerLoop loop;
  private volatile Member self;
  private volatile String selfWriter;
  private final Duration endedRetention;
  private final long maxPendingBytes;
  private final long maxWriteLatencyNanos;
  private static final long UNSEEN_FLOOR = 1 << 20;
  // Heap of a delivered record beyond its state bytes: entry, record, state, key strings.
  private static final int ENTRY_OVERHEAD = 200;
  // State bytes of stashes handed to the owner thread that it has not looked at yet.
  private final AtomicLong unseenStashBytes = new AtomicLong();
  private final AtomicLong unseenStashes = new AtomicLong();
  private final Function<CompletableFuture<LogPosition>, CompletableFuture<LogPosition>> track;
  private final AtomicLong appliedRecords = new AtomicLong();
  private volatile long metadataBytes;
  // Set by the facade: whether remote changes should be reported now, and where to.
  private volatile Supplier<Boolean> reportChanges = () -> false;
  private volatile Consumer<SessionView> onRemoteChange = v -> {};
  // Owner-thread state: this node's writes waiting for their read-back, by session (at most one).
  private final Map<String, Unconfirmed> unconfirmed = new HashMap<>();
  private volatile HandoffException stoppedWith;
  private long skewReported;
  // Handover: whether this node takes sessions handed to it now, and who hears of them.
  private volatile Supplier<Boolean> acceptingHandovers = () -> false;
  private volatile HandoverSink onArrival = (key, value, from) -> {};
  // Owner-thread state: this node's handovers waiting for the receiver's claim, by session.
  private final Map<String, Transfer> transfers = new HashMap<>();

  /** Hears of sessions handed to this node, once it owns them. */
  interface HandoverSink {
    void arrived(String session, byte[] value, String from);
  }

  /** A handover of this node waiting for the receiver to claim (or refuse). */
  private static final class Transfer {
    final String target;
    final long epoch;
    final CompletableFuture<String> taken = new CompletableFuture<>(); // the new owner

    Transfer(String target, long epoch) {
      this.target = target;
      this.epoch = epoch;
    }
  }

  /** A write of this node waiting for the log to deliver it back. */
  private record Unconfirmed(SlotRecord record, CompletableFuture<Boolean> counted) {}

  /**
   * @param track registers a write as pending (so {@code leave()} waits for it)
   */
  OwnershipProtocol(
      DeltaLog deltaLog,
      Membership membership,
      String name,
      Duration endedRetention,
      Duration maxClockSkew,
      long maxPendingBytes,
      Duration maxWriteLatency,
      Function<CompletableFuture<LogPosition>, CompletableFuture<LogPosition>> track) {
    this.maxPendingBytes = maxPendingBytes;
    this.maxWriteLatencyNanos = maxWriteLatency.toNanos();
    this.deltaLog = deltaLog;
    this.membership = membership;
    this.endedRetention = endedRetention;
    this.track = track;
    this.replica = new Replica(dev.handoff.internal.crdt.Hlc.system(), maxClockSkew.toMillis());
    this.loop = new OwnerLoop(name, this::onItem);
  }

  /** This node's current incarnation; null until the membership started. */
  Member self() {
    return self;
  }

  /** The membership started: this node is {@code me}. */
  void joined(Member me) {
    self = me;
    selfWriter = me.writerId();
  }

  /**
   * What this node does when membership changes: a member that went down is retired (its slots may
   * be cleaned up), and after a re-registration this node writes as its new incarnation.
   */
  void onMemberEvent(MemberEvent event) {
    if (event instanceof MemberEvent.MemberDown down) {
      log.info("member down: {} ({})", down.member().writerId(), down.reason());
      retire(down.member().writerId());
    } else if (event instanceof MemberEvent.ConnectionChanged cc) {
      if (cc.state() == MemberEvent.ConnectionState.REREGISTERED) {
        Member old = self;
        self = cc.self();
        selfWriter = cc.self().writerId();
        log.warn(
            "membership re-registered after a loss: {} is now {}; sessions of the old"
                + " incarnation are re-claimed on their next stash",
            old == null ? "?" : old.writerId(),
            cc.self().writerId());
        if (old != null) {
          retire(old.writerId());
        }
      } else if (cc.state() == MemberEvent.ConnectionState.LOST) {
        log.warn("membership LOST: writes are refused until re-registered");
      } else if (cc.state() == MemberEvent.ConnectionState.SUPERSEDED) {
        log.error(
            "{} is superseded by a newer incarnation of its member id: it writes nothing more",
            cc.self().writerId());
      }
    } else {
      log.debug("member event: {}", event);
    }
  }

  OwnerLoop loop() {
    return loop;
  }

  long maxPendingBytes() {
    return maxPendingBytes;
  }

  SessionIndex index() {
    return index;
  }

  long appliedRecords() {
    return appliedRecords.get();
  }

  long metadataBytes() {
    return metadataBytes;
  }

  /** Remote changes go to {@code listener} while {@code enabled} says so (after ready). */
  void reportRemoteChanges(Supplier<Boolean> enabled, Consumer<SessionView> listener) {
    this.reportChanges = enabled;
    this.onRemoteChange = listener;
  }

  // ---------------------------------------------------------------- applying the log

  /** The log's sink: called on the log's reader thread; hands the record to the owner thread. */
  void onEntry(LogEntry entry) {
    SlotState state = entry.record().state();
    int value = state == null || state.value() == null ? 0 : state.value().length;
    loop.deliver(entry, value + ENTRY_OVERHEAD);
  }

  private void onItem(Object item) {
    apply((LogEntry) item);
  }

  /**
   * Applies a record the reader delivered: every record before it in its partition has been applied
   * too, so this is where barriers are released and this node's own writes are judged.
   */
  private void apply(LogEntry entry) {
    SlotRecord record = entry.record();
    String key = record.session();
    boolean notify = reportChanges.get();
    SessionView before = notify ? index.get(key) : null; // only notifications compare views
    boolean changed = replica.apply(entry);
    SessionView after = before;
    if (changed && index.built()) {
      after = index.update(replica, key);
    }
    appliedRecords.incrementAndGet();
    Member me = self;
    String myWriter = selfWriter; // cached: this runs for every record of the replay
    if (myWriter != null && !record.isTombstone() && record.writer().equals(myWriter)) {
      Unconfirmed mine = unconfirmed.get(key);
      if (mine != null && mine.record().state().seq() == record.state().seq()) {
        unconfirmed.remove(key);
        mine.counted().complete(replica.winsAt(key, record.writer(), entry.offset()));
      }
    }
    if (me != null && index.built()) {
      onHandoverRecord(entry, me);
    }
    offsets.advance(entry.partition(), entry.offset());
    if (notify
        && changed
        && after != null
        && !after.equals(before)
        && (myWriter == null || !record.writer().equals(myWriter))) {
      onRemoteChange.accept(after);
    }
    if (replica.skewedRecords() > skewReported) {
      if (skewReported == 0) {
        log.warn(
            "a record of session '{}' by {} carries a time more than the allowed clock skew ahead"
                + " of this node's clock; such times are capped (counted in stats, logged once)",
            key,
            record.writer());
      }
      skewReported = replica.skewedRecords();
    }
  }

  /** Once the start's replay is done: builds the index and retires writers that are not members. */
  void afterReplay() {
    replica.markCaughtUp();
    index.rebuild(replica);
    retireWritersThatAreNotMembers();
    metadataBytes = replica.metadataBytes();
  }

  private void retireWritersThatAreNotMembers() {
    var live = new HashSet<String>();
    membership.members().forEach(m -> live.add(m.writerId()));
    Member me = self;
    if (me != null) {
      live.add(me.writerId());
    }
    for (String w : replica.writers()) {
      if (!live.contains(w)) {
        replica.retireWriter(w);
      }
    }
  }

  /** A member incarnation went away for good: its slots may be cleaned up. */
  void retire(String writerId) {
    loop.execute(() -> replica.retireWriter(writerId));
  }

  /**
   * The log stopped for good, or the node closed: every write waiting for its read-back, and every
   * barrier, fails with {@code error}; later operations fail at once. Owner thread.
   */
  void stop(HandoffException error) {
    stoppedWith = error;
    var waiting = new ArrayList<>(unconfirmed.values());
    unconfirmed.clear();
    waiting.forEach(u -> u.counted().completeExceptionally(error));
    offsets.failAll(error);
  }

  /** Records skipped as out of bounds by the replica: clock skew, wrong partition. */
  long skewedRecords() {
    return replica.skewedRecords();
  }

  /**
   * Periodic housekeeping on the owner thread: writers that are no longer members are retired (also
   * those whose late records arrived after their retirement), sessions in transition are
   * re-asserted or tidied (I6), tombstone markers and the dot cloud are folded.
   */
  void sweep() {
    try {
      retireWritersThatAreNotMembers();
      Member me = self;
      for (var it = index.untidy(); it.hasNext(); ) {
        String key = it.next();
        if (!replica.needsTidying(key)) {
          it.remove();
        } else if (!loop.busy(key)) {
          if (me != null && replica.ownsByClaimOnly(key, me.writerId())) {
            loop.onSession(key, () -> reassert(key));
          } else {
            cleanup(key);
          }
        }
      }
      offsets.forEach((p, o) -> replica.forgetTombstonesBefore(p, o + 1));
      // Gaps left by writes that never landed would otherwise keep every later dot in the cloud.
      replica.markCaughtUp();
      metadataBytes = replica.metadataBytes();
    } catch (RuntimeException e) {
      log.warn("housekeeping sweep failed; will retry", e);
    }
  }

  /**
   * The log's barrier hands records to the sink; the sink queues them for the owner thread. A task
   * queued on the owner thread after the barrier runs after all of them.
   */
  CompletableFuture<Void> barrier() {
    return deltaLog.barrier().thenApplyAsync(v -> null, loop.executor());
  }

  // ---------------------------------------------------------------- operations

  /** Runs {@code op} on the owner thread after every earlier operation on {@code key}. */
  <R> CompletableFuture<R> onSession(String key, Supplier<CompletableFuture<R>> op) {
    return loop.onSession(key, op);
  }

  /**
   * Queues a stash of {@code bytes} (any thread): fails at once with {@link
   * HandoffException.TooLarge} if the log would refuse it, with {@link HandoffException.Overloaded}
   * if the node's budget of pending state bytes is spent; a stash queued behind another of the same
   * session replaces that one's state (both complete together). Completes once the log delivered
   * the record back and it counts.
   */
  CompletableFuture<Void> submitStash(String key, byte[] bytes) {
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
    // What the owner thread would refuse is refused here, without costing it anything.
    if (loop.wouldRefuse(key, bytes.length, maxPendingBytes, maxWriteLatencyNanos)) {
      return CompletableFuture.failedFuture(overloaded(key));
    }
    // A saturated owner thread would hold stashes without bound before it could refuse them:
    // past a budget's worth (at least 1 MiB, for bursts) of them not looked at yet, refuse at once.
    long submittedAt = System.nanoTime();
    long unseen = unseenStashBytes.addAndGet(bytes.length);
    long unseenCount = unseenStashes.incrementAndGet();
    // A lagging owner thread alone is no reason while few stashes wait for it (a GC pause, a busy
    // host): like the latency bound, it counts only for a backlog.
    if (unseen > bytes.length
        && (unseen > Math.max(maxPendingBytes, UNSEEN_FLOOR)
            || (unseenCount >= OwnerLoop.LATENCY_BOUND_FLOOR
                && loop.ownerLagging(maxWriteLatencyNanos)))) {
      unseenStashBytes.addAndGet(-bytes.length);
      unseenStashes.decrementAndGet();
      return CompletableFuture.failedFuture(
          new HandoffException.Overloaded(
              "stash of session '"
                  + key
                  + "' refused: this node has "
                  + (unseen - bytes.length)
                  + " bytes of stashes ("
                  + (unseenCount - 1)
                  + ") it has not even queued yet (maxPendingBytes="
                  + maxPendingBytes
                  + "): it is saturated; nothing was queued"));
    }
    var caller = new CompletableFuture<Void>();
    loop.execute(
        () -> {
          unseenStashBytes.addAndGet(-bytes.length);
          unseenStashes.decrementAndGet();
          if (!loop.enqueueWrite(
              key,
              bytes,
              caller,
              v -> stash(key, v),
              maxPendingBytes,
              maxWriteLatencyNanos,
              submittedAt)) {
            caller.completeExceptionally(overloaded(key));
          }
        });
    return caller;
  }

  private HandoffException.Overloaded overloaded(String key) {
    return new HandoffException.Overloaded(
        "stash of session '"
            + key
            + "' refused: this node already holds "
            + loop.writeBytes()
            + " bytes of states waiting to be sent or confirmed (maxPendingBytes="
            + maxPendingBytes
            + "), or a backlog that takes about "
            + TimeUnit.NANOSECONDS.toMillis(loop.backlogNanos())
            + " ms to complete at the recent rate (refused past "
            + TimeUnit.NANOSECONDS.toMillis(maxWriteLatencyNanos)
            + " ms; writes take "
            + TimeUnit.NANOSECONDS.toMillis(loop.writeLatencyNanos())
            + " ms on average); nothing was queued");
  }

  private CompletableFuture<Void> stash(String key, byte[] bytes) {
    requireWritable("stash", key);
    Member me = self;
    SessionView current = index.get(key);
    if (current != null && current.ended() && !current.owner().equals(me.writerId())) {
      // Another writer ended it: a stash from a node that still thinks it owns the session must
      // not bring it back. The key is free again once the ended record is tombstoned.
      throw new HandoffException.Fenced(
          "session '"
              + key
              + "' was ended by "
              + current.owner()
              + "; this node no longer owns it (the key can be used again once the end's"
              + " retention has passed)");
    }
    if (current != null
        && !current.ended()
        && !current.owner().equals(me.writerId())
        && isEarlierIncarnationOfMe(current.owner())) {
      // Taken over from an earlier incarnation of this member: claim it first, then write.
      requireNotRegistered(key, current.owner());
      return claim(key)
          .thenCompose(
              won -> {
                try {
                  return write(replica.stash(key, me.writerId(), bytes), key);
                } catch (FencingException e) {
                  throw fenced(e);
                }
              });
    }
    SlotRecord rec;
    try {
      rec = replica.stash(key, me.writerId(), bytes);
    } catch (FencingException e) {
      throw fenced(e);
    }
    if (rec.state().claimOffset() == SlotState.SELF) {
      return decideClaim(key, rec).thenApply(view -> null); // a new session: the stash claims it
    }
    return write(rec, key);
  }

  /** Claims {@code key} for this node; its state, or empty if the session does not exist. */
  CompletableFuture<Optional<byte[]>> pickup(String key) {
    requireWritable("pickup", key);
    Member me = self;
    SessionView current = index.get(key);
    if (current == null || current.ended()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    if (current.owner().equals(me.writerId())) {
      return CompletableFuture.completedFuture(Optional.of(current.value()));
    }
    String running = runningOwner(current.owner());
    if (running != null) {
      throw new HandoffException.OwnedElsewhere(
          "session '"
              + key
              + "' is owned by "
              + current.owner()
              + ", "
              + running
              + "; it can be picked up once that member leaves or goes down",
          WriterId.fromLog(current.owner()));
    }
    return claim(key).thenApply(view -> Optional.of(view.value()));
  }

  /** Ends {@code key}, owned by this node. */
  CompletableFuture<Void> end(String key) {
    requireWritable("end", key);
    SlotRecord rec;
    try {
      rec = replica.end(key, self.writerId());
    } catch (FencingException e) {
      throw fenced(e);
    } catch (IllegalStateException e) {
      return CompletableFuture.completedFuture(null); // nothing to end
    }
    return write(rec, key).thenCompose(v -> cleanup(key));
  }

  /**
   * Appends a claim of {@code key} that carries its current state and decides it. The older slots
   * of the session stay until the winner writes again: its next stash does, and housekeeping
   * re-asserts the state of a session that was not written by the next sweep (so a transfer costs
   * the log two records on its way, not three).
   */
  private CompletableFuture<SessionView> claim(String key) {
    SlotRecord claim = replica.claim(key, self.writerId(), null);
    return decideClaim(key, claim);
  }

  /** Appends {@code claim} and, once the log delivered it back, tells whether it won. */
  private CompletableFuture<SessionView> decideClaim(String key, SlotRecord claim) {
    return append(claim)
        .thenCompose(
            won -> {
              if (won) {
                cleanup(key);
                return CompletableFuture.completedFuture(index.get(key));
              }
              SessionView winner = index.get(key);
              return cleanup(key)
                  .thenApply(
                      v -> {
                        throw new HandoffException.OwnedElsewhere(
                            "session '"
                                + key
                                + "' was claimed concurrently; "
                                + (winner == null ? "nobody" : winner.owner())
                                + " won",
                            winner == null ? null : WriterId.fromLog(winner.owner()));
                      });
            });
  }

  /** Appends a write of the owner and fails with {@link HandoffException.Fenced} if it lost. */
  private CompletableFuture<Void> write(SlotRecord rec, String key) {
    return append(rec)
        .thenApply(
            counted -> {
              if (!counted) {
                SessionView now = index.get(key);
                throw new HandoffException.Fenced(
                    "the write of session '"
                        + key
                        + "' by "
                        + rec.writer()
                        + " did not count: "
                        + (now == null ? "the session is gone" : now.owner() + " claimed it")
                        + " before the write reached the log; it must be picked up again before"
                        + " this node can write it");
              }
              return null;
            });
  }

  /** Writes the state a claim won again, under the new epoch, so older slots can be removed. */
  private CompletableFuture<Void> reassert(String key) {
    Member me = self;
    if (me == null || !membership.writable() || !replica.ownsByClaimOnly(key, me.writerId())) {
      return CompletableFuture.completedFuture(null);
    }
    Optional<byte[]> value = replica.value(key);
    if (value.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return write(replica.stash(key, me.writerId(), value.get()), key)
        .thenCompose(v -> cleanup(key))
        .exceptionally(
            e -> {
              log.debug("re-asserting session '{}' failed; housekeeping retries", key, e);
              return null;
            });
  }

  /**
   * Appends {@code rec} (on the owner thread) and completes, on the owner thread, with whether it
   * counts once the reader delivered it back. If the append fails, the log is read to its end: the
   * record either shows up there (and is judged) or was never written (the append's error).
   */
  private CompletableFuture<Boolean> append(SlotRecord rec) {
    HandoffException stopped = stoppedWith;
    if (stopped != null) {
      return CompletableFuture.failedFuture(stopped);
    }
    String key = rec.session();
    var waiting = new Unconfirmed(rec, new CompletableFuture<>());
    unconfirmed.put(key, waiting);
    track
        .apply(deltaLog.append(rec))
        .whenComplete(
            (pos, e) -> {
              if (e != null) {
                loop.execute(() -> resolveUnknown(waiting, e, 0));
              }
            });
    // Completed on the owner thread: by apply() at the read-back, resolveUnknown() or stop().
    return waiting.counted();
  }

  private void resolveUnknown(Unconfirmed waiting, Throwable appendError, int attempt) {
    if (waiting.counted().isDone()) {
      return;
    }
    barrier()
        .whenComplete(
            (v, e) -> {
              if (waiting.counted().isDone()) {
                return;
              }
              if (e == null) {
                // Everything acknowledged before the barrier was applied and the record is not
                // among it: it was never written.
                unconfirmed.remove(waiting.record().session(), waiting);
                waiting.counted().completeExceptionally(appendError);
              } else if (stoppedWith == null && attempt < 100) {
                long delay = Math.min(1000, 50L << Math.min(attempt, 4));
                CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
                    .execute(
                        () ->
                            loop.execute(() -> resolveUnknown(waiting, appendError, attempt + 1)));
              } else {
                unconfirmed.remove(waiting.record().session(), waiting);
                waiting
                    .counted()
                    .completeExceptionally(
                        new HandoffException.Timeout(
                            "the append of session '"
                                + waiting.record().session()
                                + "' failed ("
                                + appendError
                                + ") and the log could not be read to its end to learn whether"
                                + " it was written; its outcome is unknown"));
              }
            });
  }

  /** Appends the tombstones that make other slots of {@code key} go away (invariant I6). */
  private CompletableFuture<Void> cleanup(String key) {
    Member me = self;
    if (me == null || !membership.writable() || stoppedWith != null) {
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
      appends.add(track.apply(deltaLog.append(t)));
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

  // ---------------------------------------------------------------- handover

  /** Sessions handed to this node are taken while {@code accepting} says so, and reported. */
  void receiveHandovers(Supplier<Boolean> accepting, HandoverSink sink) {
    this.acceptingHandovers = accepting;
    this.onArrival = sink;
  }

  /** What a record of {@code entry}'s session means for handovers, on either side. */
  private void onHandoverRecord(LogEntry entry, Member me) {
    SlotRecord record = entry.record();
    String key = record.session();
    Transfer transfer = transfers.get(key);
    if (transfer != null) {
      SessionView now = index.get(key);
      if (record.isTombstone() && record.writer().equals(transfer.target)) {
        transfer.taken.complete(null); // the receiver refused
      } else if (now != null && now.epoch() > transfer.epoch) {
        transfer.taken.complete(now.owner());
      }
    }
    SlotState state = record.state();
    if (state != null
        && me.writerId().equals(state.handoverTo())
        && replica.winsAt(key, record.writer(), entry.offset())) {
      loop.onSession(key, () -> accept(key, record.writer()));
    }
  }

  /** A session was handed to this node: claim it, or refuse (a tombstone of our own slot). */
  private CompletableFuture<Void> accept(String key, String from) {
    Member me = self;
    SessionView v = index.get(key);
    if (v == null || !me.writerId().equals(v.handoverTo()) || !v.owner().equals(from)) {
      return CompletableFuture.completedFuture(null); // taken back, or superseded meanwhile
    }
    if (!acceptingHandovers.get() || !membership.writable() || stoppedWith != null) {
      log.info("refusing the handover of session '{}' from {}", key, from);
      return track
          .apply(deltaLog.append(SlotRecord.tombstone(key, me.writerId())))
          .handle((p, e) -> null);
    }
    return claim(key)
        .handle(
            (view, e) -> {
              if (e == null) {
                onArrival.arrived(key, view.value(), from);
              } else {
                log.debug("the handover of session '{}' from {} was not won", key, from, e);
              }
              return null;
            });
  }

  /**
   * Hands {@code key} to {@code target} with {@code bytes} as its last state here: a write that
   * says so, then the receiver's claim. Completes with the new owner's writer id once the receiver
   * took it; with this node's own writer id if it refused or did not take it within {@code timeout}
   * and this node took the session back (the claims of the two decide by log order).
   */
  CompletableFuture<String> handover(String key, byte[] bytes, String target, Duration timeout) {
    return loop.onSession(key, () -> startHandover(key, bytes, target, timeout));
  }

  private CompletableFuture<String> startHandover(
      String key, byte[] bytes, String target, Duration timeout) {
    requireWritable("hand over", key);
    Member me = self;
    SlotRecord release;
    try {
      release = replica.release(key, me.writerId(), bytes, target);
    } catch (FencingException e) {
      throw fenced(e);
    }
    var transfer = new Transfer(target, release.state().epoch());
    transfers.put(key, transfer);
    CompletableFuture<String> result =
        write(release, key)
            .thenCompose(
                v ->
                    transfer
                        .taken
                        .completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .thenApplyAsync(owner -> owner, loop.executor()))
            .thenCompose(
                owner -> {
                  if (owner != null) {
                    return CompletableFuture.completedFuture(owner);
                  }
                  SessionView now = index.get(key);
                  if (now != null && now.epoch() > transfer.epoch) {
                    return CompletableFuture.completedFuture(now.owner()); // taken meanwhile
                  }
                  // refused or not taken in time: take it back; the first claim in the log wins
                  return claim(key)
                      .handle(
                          (view, e) -> {
                            SessionView after = index.get(key);
                            return after == null ? me.writerId() : after.owner();
                          });
                });
    return result.whenComplete((o, e) -> loop.run(() -> transfers.remove(key, transfer)));
  }

  // ---------------------------------------------------------------- who may write

  private void requireWritable(String op, String key) {
    HandoffException stopped = stoppedWith;
    if (stopped != null) {
      throw stopped;
    }
    if (!membership.writable()) {
      throw new HandoffException.Fenced(
          "cannot "
              + op
              + " session '"
              + key
              + "': this node is not certain to be a member now (its membership session was"
              + " lost or may have expired) and has not re-registered yet");
    }
  }

  private static HandoffException.Fenced fenced(FencingException e) {
    return new HandoffException.Fenced(
        e.getMessage() + "; it must be picked up again before this node can write it");
  }

  private boolean isEarlierIncarnationOfMe(String writer) {
    Member me = self;
    return memberIdOf(writer).equals(me.id()) && epochOf(writer) < me.epoch();
  }

  /**
   * An earlier incarnation of this member that is still registered may still be writing (a twin, or
   * a process that has not expired yet): its sessions are taken only once it is gone.
   */
  private void requireNotRegistered(String key, String writer) {
    if (registered(writer) != null) {
      throw new HandoffException.OwnedElsewhere(
          "session '"
              + key
              + "' is owned by "
              + writer
              + ", an earlier incarnation of this member that is still registered; it can be"
              + " taken once that incarnation is gone",
          WriterId.fromLog(writer));
    }
  }

  /**
   * Why the owner {@code writer} may not be displaced, or null if it may: a RUNNING member, any
   * incarnation of this member that is still registered (a newer one, or an earlier one that may
   * still write). Sessions of members that are LEAVING or gone are taken.
   */
  private String runningOwner(String writer) {
    Member me = self;
    Member m = registered(writer);
    if (m == null) {
      return null;
    }
    if (memberIdOf(writer).equals(me.id())) {
      return epochOf(writer) > me.epoch()
          ? "a newer incarnation of this member"
          : "an earlier incarnation of this member that is still registered";
    }
    return m.state() == MemberState.RUNNING ? "a RUNNING member" : null;
  }

  private Member registered(String writer) {
    for (Member m : membership.members()) {
      if (m.writerId().equals(writer)) {
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

  /** The sessions this node has writes in flight for (tests and monitoring). Owner thread. */
  Set<String> unconfirmedSessions() {
    return new HashSet<>(unconfirmed.keySet());
  }
}
