package dev.handoff;

import dev.handoff.internal.crdt.ClaimOutcome;
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
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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
 * <p>A stash by the owner appends its next record; a stash of a session nobody owns, or that an
 * earlier incarnation of this member owned, is a claim. A pickup appends a claim. A claim is
 * decided by the log's order once the node has applied everything up to it: of concurrent claims of
 * one epoch, the lowest offset wins on every replica. After a decision the node appends the
 * tombstones that remove slots nobody needs any more (invariant I6).
 */
final class OwnershipProtocol {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private final Replica replica = new Replica();
  private final SessionIndex index = new SessionIndex();
  private final AppliedOffsets offsets = new AppliedOffsets();
  private final DeltaLog deltaLog;
  private final Membership membership;
  private final OwnerLoop loop;
  private volatile Member self;
  private final Duration endedRetention;
  private final Function<CompletableFuture<LogPosition>, CompletableFuture<LogPosition>> track;
  private final AtomicLong appliedRecords = new AtomicLong();
  private volatile long metadataBytes;
  // Set by the facade: whether remote changes should be reported now, and where to.
  private volatile Supplier<Boolean> reportChanges = () -> false;
  private volatile Consumer<SessionView> onRemoteChange = v -> {};

  /**
   * @param track registers a write as pending (so {@code leave()} waits for it)
   */
  OwnershipProtocol(
      DeltaLog deltaLog,
      Membership membership,
      String name,
      Duration endedRetention,
      Function<CompletableFuture<LogPosition>, CompletableFuture<LogPosition>> track) {
    this.deltaLog = deltaLog;
    this.membership = membership;
    this.endedRetention = endedRetention;
    this.track = track;
    this.loop = new OwnerLoop(name, this::onItem);
  }

  /** This node's current incarnation; null until the membership started. */
  Member self() {
    return self;
  }

  /** The membership started: this node is {@code me}. */
  void joined(Member me) {
    self = me;
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
      }
    } else {
      log.debug("member event: {}", event);
    }
  }

  OwnerLoop loop() {
    return loop;
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
    loop.deliver(entry);
  }

  private void onItem(Object item) {
    if (item instanceof OwnWrite w) {
      apply(w.entry(), false);
      w.done().complete(new LogPosition(w.entry().partition(), w.entry().offset()));
    } else {
      apply((LogEntry) item, true);
    }
  }

  /**
   * Applies a record to the replica. {@code fromLog}: the reader delivered it, so every record
   * before it in its partition has been applied too (barriers and claim decisions wait on that);
   * otherwise it is this node's own acknowledged write, applied ahead of the reader.
   */
  private void apply(LogEntry entry, boolean fromLog) {
    String key = entry.record().session();
    boolean notify = fromLog && reportChanges.get();
    SessionView before = notify ? index.get(key) : null; // only notifications compare views
    boolean changed = replica.apply(entry);
    SessionView after = before;
    if (changed && index.built()) {
      after = index.update(replica, key);
    }
    if (!fromLog) {
      return;
    }
    appliedRecords.incrementAndGet();
    offsets.advance(entry.partition(), entry.offset());
    Member me = self;
    if (notify
        && changed
        && after != null
        && !after.equals(before)
        && (me == null || !entry.record().writer().equals(me.writerId()))) {
      onRemoteChange.accept(after);
    }
  }

  /** Once the start's replay is done: builds the index and retires writers that are not members. */
  void afterReplay() {
    replica.markCaughtUp();
    index.rebuild(replica);
    var live = new HashSet<String>();
    membership.members().forEach(m -> live.add(m.writerId()));
    live.add(self.writerId());
    for (String w : replica.writers()) {
      if (!live.contains(w)) {
        replica.retireWriter(w);
      }
    }
    metadataBytes = replica.metadataBytes();
  }

  /** A member incarnation went away for good: its slots may be cleaned up. */
  void retire(String writerId) {
    loop.execute(() -> replica.retireWriter(writerId));
  }

  /** Fails what waits for records that will now never be applied. Owner thread. */
  void failWaiters() {
    offsets.failAll(new HandoffException.Left("StateHandoff closed"));
  }

  /** Periodic housekeeping on the owner thread: tombstones and tombstone-marker GC (I6). */
  void sweep() {
    try {
      for (var it = index.untidy(); it.hasNext(); ) {
        String key = it.next();
        if (!replica.needsTidying(key)) {
          it.remove();
        } else if (!loop.busy(key)) {
          cleanup(key);
        }
      }
      offsets.forEach((p, o) -> replica.forgetTombstonesBefore(p, o + 1));
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
   * HandoffException.TooLarge} if the log would refuse it, else completes at the log's
   * acknowledgement; the session's next operation runs once this node has applied the record.
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
    var acked = new CompletableFuture<Void>();
    loop.onSession(key, () -> stash(key, bytes, acked))
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                acked.completeExceptionally(e);
              } else {
                acked.complete(null);
              }
            });
    return acked;
  }

  /**
   * Stashes {@code bytes} as this node's state of {@code key}; {@code acked} completes at the log's
   * acknowledgement, the result once the record is applied here (and, for a claim, decided).
   */
  private CompletableFuture<Void> stash(String key, byte[] bytes, CompletableFuture<Void> acked) {
    requireWritable("stash", key);
    String me = self.writerId();
    SessionView current = index.get(key);
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

  /** Claims {@code key} for this node; its state, or empty if the session does not exist. */
  CompletableFuture<Optional<byte[]>> pickup(String key) {
    requireWritable("pickup", key);
    String me = self.writerId();
    SessionView current = index.get(key);
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
          WriterId.fromLog(current.owner()));
    }
    SlotRecord claim = replica.claim(key, me, null);
    return appendAndApply(claim)
        .thenCompose(pos -> decide(key, me, pos))
        .thenApply(view -> Optional.of(view.value()));
  }

  /** Ends {@code key}, owned by this node. */
  CompletableFuture<Void> end(String key) {
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
      // (leave() still does, through the pending writes).
      cleanup(key);
      return CompletableFuture.completedFuture(won.session());
    }
    SessionView winner =
        outcome instanceof ClaimOutcome.Lost lost && lost.winner() != null ? lost.winner() : null;
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

  /** Appends, then completes (on the owner thread) once the reader has applied the record. */
  private CompletableFuture<LogPosition> appendAndApply(SlotRecord rec) {
    return deltaLog
        .append(rec)
        .thenComposeAsync(
            pos -> offsets.await(pos.partition(), pos.offset()).thenApply(v -> pos),
            loop.executor());
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
              loop.deliver(new OwnWrite(new LogEntry(rec, pos.partition(), pos.offset()), done));
              onAck.complete(null);
            });
    return done;
  }

  /** A record this node wrote, acknowledged at {@code entry}'s position. */
  private record OwnWrite(LogEntry entry, CompletableFuture<LogPosition> done) {}

  // ---------------------------------------------------------------- who may write

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

  private static HandoffException.Fenced fenced(FencingException e) {
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
}
