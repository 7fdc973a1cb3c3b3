package dev.handoff.internal.crdt;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;

/**
 * One node's copy of the replicated session map: per session, the latest record of every writer's
 * slot, read through the rules of the {@code dev.handoff.internal.crdt} package documentation.
 *
 * <p><b>Threading:</b> not thread-safe. One thread (the {@code StateHandoff} owner thread) calls
 * every method; the log's reader hands records to that thread, which calls {@link #apply}.
 *
 * <p><b>State changes</b> happen only through {@link #apply}: the join of one record. The mutators
 * ({@link #stash}, {@link #claim}, {@link #end}, {@link #slotsToTombstone}) only build the next
 * records (the deltas) and change nothing but the clock and the writer's counter; the caller
 * appends them to the log, and they take effect when the log delivers them back. A caller must not
 * build a second record for the same session and writer before the previous one has been applied.
 *
 * <p>Nulls are rejected with {@link NullPointerException} unless a parameter says otherwise.
 */
public final class Replica {

  /**
   * A slot: the latest record of one writer for one session, its state fields inlined (no {@link
   * SlotState} object is kept), or a tombstone marker ({@code epoch == 0}). The first slot of a
   * session is also its entry in the {@link SessionTable}.
   */
  private static final class Slot {
    final String session;
    final String writer;
    final int partition;
    long offset;
    long epoch; // 0: tombstone marker
    long claimOffset;
    long seq;
    long hlc;
    long appliedAtMillis; // this node's wall clock when the record was applied here
    byte[] value; // null: ended (when live)
    String handoverTo; // the writer this (owner's) record hands the session to, or null
    Slot next; // the session's other slots
    Slot hashNext; // the next session in the table bucket (heads only)

    Slot(String session, String writer, int partition) {
      this.session = session;
      this.writer = writer;
      this.partition = partition;
    }

    void set(long offset, SlotState state) {
      this.offset = offset;
      if (state == null) {
        epoch = 0;
        value = null;
        handoverTo = null;
      } else {
        epoch = state.epoch();
        claimOffset = state.claimOffset();
        seq = state.seq();
        hlc = state.hlc();
        value = state.value();
        handoverTo = state.handoverTo();
      }
    }

    boolean live() {
      return epoch != 0;
    }

    boolean ended() {
      return value == null;
    }

    SlotState state() {
      return live()
          ? new SlotState(epoch, claimOffset, seq, hlc, value, value == null, handoverTo)
          : null;
    }

    long claim() {
      return claimOffset == SlotState.SELF ? offset : claimOffset;
    }
  }

  /** Session key to first slot: a chained hash table threaded through the slots themselves. */
  private static final class SessionTable {
    private Slot[] table = new Slot[16];
    private int size;

    private static int hash(String key) {
      int h = key.hashCode();
      return h ^ (h >>> 16);
    }

    Slot get(String key) {
      for (Slot s = table[hash(key) & (table.length - 1)]; s != null; s = s.hashNext) {
        if (s.session.equals(key)) {
          return s;
        }
      }
      return null;
    }

    /** Makes {@code head} the first slot of {@code key}, replacing the current one if any. */
    void put(String key, Slot head) {
      int i = hash(key) & (table.length - 1);
      Slot prev = null;
      for (Slot s = table[i]; s != null; prev = s, s = s.hashNext) {
        if (s.session.equals(key)) {
          if (s != head) {
            head.hashNext = s.hashNext;
            s.hashNext = null;
            if (prev == null) {
              table[i] = head;
            } else {
              prev.hashNext = head;
            }
          }
          return;
        }
      }
      head.hashNext = table[i];
      table[i] = head;
      if (++size > table.length - (table.length >>> 2)) {
        resize();
      }
    }

    void remove(String key) {
      int i = hash(key) & (table.length - 1);
      Slot prev = null;
      for (Slot s = table[i]; s != null; prev = s, s = s.hashNext) {
        if (s.session.equals(key)) {
          if (prev == null) {
            table[i] = s.hashNext;
          } else {
            prev.hashNext = s.hashNext;
          }
          s.hashNext = null;
          size--;
          return;
        }
      }
    }

    private void resize() {
      Slot[] old = table;
      table = new Slot[old.length * 2];
      for (Slot chain : old) {
        for (Slot s = chain; s != null; ) {
          Slot following = s.hashNext;
          int j = hash(s.session) & (table.length - 1);
          s.hashNext = table[j];
          table[j] = s;
          s = following;
        }
      }
    }

    int size() {
      return size;
    }

    int capacity() {
      return table.length;
    }

    void forEachHead(java.util.function.Consumer<Slot> action) {
      for (Slot chain : table) {
        for (Slot s = chain; s != null; s = s.hashNext) {
          action.accept(s);
        }
      }
    }

    TreeSet<String> keys() {
      var keys = new TreeSet<String>();
      forEachHead(s -> keys.add(s.session));
      return keys;
    }
  }

  private record Marker(String session, String writer, long offset) {}

  // Object sizes on a 64-bit JVM with compressed oops (the heap benchmark in handoff-bench checks
  // the total): a table reference per session, a slot per record kept.
  static final int TABLE_REF_BYTES = 4;
  static final int SLOT_BYTES = 96;
  static final int MARKER_BYTES = SLOT_BYTES + 40; // the marker slot + its queue entry
  static final int WRITER_BYTES = 120; // causal context entry + slot count entry
  static final int CLOUD_DOT_BYTES = 56;

  /** Default bound on how far ahead of this node's clock a remote record's time is believed. */
  public static final long DEFAULT_MAX_CLOCK_SKEW_MILLIS = 60_000;

  private final Hlc clock;
  private final long maxClockSkewMillis;
  private long skewedRecords;
  private long wrongPartitionRecords;
  private final SessionTable sessions = new SessionTable();
  private final CausalContext context = new CausalContext();
  private final HashMap<String, int[]> liveSlotsByWriter = new HashMap<>();
  private final HashMap<String, long[]> issuedSeq = new HashMap<>();
  private final Set<String> retired = new HashSet<>();
  private final HashMap<Integer, PriorityQueue<Marker>> markers = new HashMap<>();
  private int liveSlots;
  private int markerCount;

  /**
   * A replica whose mutators stamp records with {@code clock}. A remote record whose time is more
   * than {@code maxClockSkewMillis} ahead of {@code clock}'s wall clock moves the clock only that
   * far (and is counted in {@link #skewedRecords()}): one node with a clock far in the future can
   * neither drag every replica's clock along nor decide when anything is due.
   */
  public Replica(Hlc clock, long maxClockSkewMillis) {
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxClockSkewMillis < 0) {
      throw new IllegalArgumentException(
          "maxClockSkewMillis must be >= 0, was " + maxClockSkewMillis);
    }
    this.maxClockSkewMillis = maxClockSkewMillis;
  }

  /** A replica on {@code clock} with {@link #DEFAULT_MAX_CLOCK_SKEW_MILLIS}. */
  public Replica(Hlc clock) {
    this(clock, DEFAULT_MAX_CLOCK_SKEW_MILLIS);
  }

  /** A replica on the system clock. */
  public Replica() {
    this(Hlc.system());
  }

  // ---------------------------------------------------------------- join

  /**
   * Joins one delivered record. Records may arrive in any order and more than once: per slot the
   * record with the higher offset wins, so applying is idempotent, commutative and associative.
   * Returns true if the record changed the replica.
   */
  public boolean apply(LogEntry entry) {
    SlotRecord r = entry.record();
    String session = r.session();
    String writer = r.writer();
    SlotState state = r.state();
    Slot head = sessions.get(session);
    if (head != null && head.partition != entry.partition()) {
      // Every record of a session lives in one partition; offsets of two partitions are never
      // compared. A copy in another partition (a re-produced or mirrored topic) does not count.
      wrongPartitionRecords++;
      return false;
    }
    Slot slot = find(head, writer);
    boolean wasLive = false;
    if (slot != null) {
      if (slot.offset >= entry.offset()) {
        return false;
      }
      wasLive = slot.live();
      if (!wasLive) {
        markerCount--;
      }
    } else {
      slot = new Slot(session, writer, entry.partition());
      slot.next = head;
      sessions.put(session, slot);
    }
    slot.set(entry.offset(), state);
    slot.appliedAtMillis = clock.wallMillis();
    if (state == null) {
      if (wasLive) {
        countLive(writer, -1);
      }
      markerCount++;
      markers
          .computeIfAbsent(entry.partition(), p -> new PriorityQueue<>(markerOrder()))
          .add(new Marker(session, writer, entry.offset()));
    } else {
      if (!wasLive) {
        countLive(writer, +1);
      }
      if (retired.isEmpty() || !retired.contains(writer)) {
        context.add(writer, state.seq()); // a retired writer's dots are no longer tracked
      }
      long limit = Hlc.of(Math.max(0, clock.wallMillis() + maxClockSkewMillis), 0);
      if (state.hlc() > limit) {
        skewedRecords++;
        clock.update(limit);
      } else {
        clock.update(state.hlc());
      }
    }
    return true;
  }

  /** Records whose time was further ahead of this node's clock than the skew bound allows. */
  public long skewedRecords() {
    return skewedRecords;
  }

  /** Records ignored because they sat in another partition than their session's other records. */
  public long wrongPartitionRecords() {
    return wrongPartitionRecords;
  }

  private static java.util.Comparator<Marker> markerOrder() {
    return java.util.Comparator.comparingLong(Marker::offset);
  }

  private void countLive(String writer, int delta) {
    liveSlots += delta;
    int[] n = liveSlotsByWriter.computeIfAbsent(writer, w -> new int[1]);
    n[0] += delta;
    if (n[0] == 0) {
      liveSlotsByWriter.remove(writer);
      retired.remove(writer); // a retired writer with no slots left leaves nothing behind
    }
  }

  private static Slot find(Slot head, String writer) {
    for (Slot s = head; s != null; s = s.next) {
      if (s.writer.equals(writer)) {
        return s;
      }
    }
    return null;
  }

  /**
   * Joins another replica's whole state into this one: the same as applying every record it holds,
   * tombstone markers included. {@code other} is only read.
   */
  public void join(Replica other) {
    if (other == this) {
      return;
    }
    for (LogEntry e : other.entries()) {
      apply(e);
    }
  }

  /** The records this replica holds (tombstone markers as tombstones), by session then writer. */
  List<LogEntry> entries() {
    var out = new ArrayList<LogEntry>();
    sessions
        .keys()
        .forEach(
            s -> {
              var slots = new java.util.TreeMap<String, Slot>();
              for (Slot x = sessions.get(s); x != null; x = x.next) {
                slots.put(x.writer, x);
              }
              slots.forEach(
                  (w, x) ->
                      out.add(
                          new LogEntry(new SlotRecord(s, w, x.state()), x.partition, x.offset)));
            });
    return out;
  }

  // ---------------------------------------------------------------- read

  /**
   * Reads a session: the slot with the highest epoch and, within it, the lowest claim offset. Empty
   * if no slot of the session is live. An ended session reads as a view with {@code ended()}; use
   * {@link #value} for "the state, if any".
   */
  public Optional<SessionView> read(String session) {
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    Slot best = winner(head);
    return best == null ? Optional.empty() : Optional.of(view(session, head, best));
  }

  /** The session's state bytes, or empty if the session is absent or ended. */
  public Optional<byte[]> value(String session) {
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    Slot best = winner(head);
    if (best == null) {
      return Optional.empty();
    }
    Slot v = valueSlot(head, best);
    return v.ended() ? Optional.empty() : Optional.of(v.value);
  }

  /** The writer that owns the session, also when it ended it; empty if no slot is live. */
  public Optional<String> owner(String session) {
    Slot best = winner(sessions.get(Objects.requireNonNull(session, "session")));
    return best == null ? Optional.empty() : Optional.of(best.writer);
  }

  /** The sessions that read as live (present and not ended), sorted. A fresh copy. */
  public Set<String> sessions() {
    var live = new TreeSet<String>();
    sessions.forEachHead(
        head -> {
          Slot w = winner(head);
          if (w != null && !valueSlot(head, w).ended()) {
            live.add(head.session);
          }
        });
    return live;
  }

  /**
   * Calls {@code action} with the view of every session that has a live slot (what {@link #read}
   * returns) and whether it {@link #needsTidying}, in no particular order: one pass over the table,
   * for building an index of every session at once.
   */
  public void forEachView(ViewVisitor action) {
    Objects.requireNonNull(action, "action");
    sessions.forEachHead(
        head -> {
          Slot best = winner(head);
          if (best != null) {
            action.accept(
                view(head.session, head, best), head.next != null || head.live() && head.ended());
          }
        });
  }

  /** Receives the views of {@link #forEachView}. */
  @FunctionalInterface
  public interface ViewVisitor {
    void accept(SessionView view, boolean needsTidying);
  }

  /** The number of session keys the replica holds anything for. */
  public int knownSessionCount() {
    return sessions.size();
  }

  /** Every session key the replica holds anything for (live, ended, or tombstone markers). */
  public Set<String> knownSessions() {
    return sessions.keys();
  }

  /** The number of sessions that read as live. */
  public int liveCount() {
    int[] n = new int[1];
    sessions.forEachHead(
        head -> {
          Slot w = winner(head);
          if (w != null && !valueSlot(head, w).ended()) {
            n[0]++;
          }
        });
    return n[0];
  }

  private static Slot winner(Slot head) {
    Slot best = null;
    for (Slot s = head; s != null; s = s.next) {
      if (s.live() && (best == null || beats(s, best))) {
        best = s;
      }
    }
    return best;
  }

  private static boolean beats(Slot a, Slot b) {
    if (a.epoch != b.epoch) {
      return a.epoch > b.epoch;
    }
    long ca = a.claim();
    long cb = b.claim();
    if (ca != cb) {
      return ca < cb;
    }
    return a.writer.compareTo(b.writer) < 0; // only a misbehaving writer can make claims tie
  }

  /**
   * The slot whose value the session reads as, given its winner {@code best}: the winner's own
   * record, unless that record is the winner's claim itself. A claim carries the state as the
   * claimant read it before appending; the previous owner may have written once more in between
   * (its write landed after the claimant's read but before the claim), and that write counts. So a
   * session whose winner has only its claim reads as the previous owner's record, if it is kept,
   * live and before the claim; otherwise as the claim. (The previous owner: the winner of the
   * highest epoch below the claim's.) Once the winner writes again, its own record is read.
   */
  private static Slot valueSlot(Slot head, Slot best) {
    Slot current = best;
    for (int depth = 0; depth < 16 && current.offset == current.claim(); depth++) {
      Slot previous = null;
      for (Slot s = head; s != null; s = s.next) {
        if (s.live() && s.epoch < current.epoch && (previous == null || beats(s, previous))) {
          previous = s;
        }
      }
      if (previous == null || previous.offset >= current.offset || previous.ended()) {
        return current;
      }
      current = previous;
    }
    return current;
  }

  private static SessionView view(String session, Slot head, Slot best) {
    Slot v = valueSlot(head, best);
    return new SessionView(
        session,
        best.writer,
        best.epoch,
        best.claim(),
        v.seq,
        v.hlc,
        v.value,
        v.ended(),
        best.offset == best.claim() ? null : best.handoverTo);
  }

  // ---------------------------------------------------------------- mutators (deltas)

  /**
   * Builds the record that stores {@code value} as {@code writer}'s state of {@code session}. If
   * nobody owns the session (never written, or ended), the record is a claim (of epoch 1, or one
   * above the ended epoch): append it and check {@link #claimOutcome} before the next stash.
   *
   * @throws FencingException if another writer owns the session
   */
  public SlotRecord stash(String session, String writer, byte[] value) {
    Objects.requireNonNull(value, "value");
    Slot best = winner(sessions.get(Objects.requireNonNull(session, "session")));
    if (best == null || best.ended()) {
      return claim(session, writer, value);
    }
    if (!best.writer.equals(Objects.requireNonNull(writer, "writer"))) {
      throw new FencingException(session, writer, best.writer, best.epoch);
    }
    if (best.handoverTo != null && best.offset != best.claim()) {
      throw new FencingException(session, writer, best.handoverTo, best.epoch + 1);
    }
    return new SlotRecord(
        session,
        writer,
        new SlotState(best.epoch, best.claim(), nextSeq(writer), clock.now(), value, false));
  }

  /**
   * Builds the record by which the owner {@code writer} hands {@code session} to {@code target}:
   * its last write, carrying {@code value}. From then on the owner may not write the session; the
   * target takes it with a claim of the next epoch (and the owner may take it back the same way if
   * the target does not: of the two claims the first in the log wins).
   *
   * @throws FencingException if {@code writer} does not own the session or already handed it over
   */
  public SlotRecord release(String session, String writer, byte[] value, String target) {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(target, "target");
    SlotRecord stash = stash(session, writer, value); // checks ownership
    SlotState s = stash.state();
    if (s.claimOffset() == SlotState.SELF) {
      throw new FencingException(session, writer, "nobody", 0); // nothing to hand over
    }
    return new SlotRecord(
        session,
        writer,
        new SlotState(s.epoch(), s.claimOffset(), s.seq(), s.hlc(), value, false, target));
  }

  /**
   * Builds a claim (pickup) of {@code session} by {@code writer}: the current epoch plus one, the
   * claim being the record itself. It carries {@code value}, or the current state when {@code
   * value} is null, so the state survives even if the claimant dies at once. After appending it at
   * offset O, the claimant owns the session once {@link #claimOutcome}{@code (session, writer, O)}
   * says {@link ClaimOutcome.Won}.
   *
   * <p>Whether the current owner may be displaced (it is leaving, gone, or this node's earlier
   * incarnation) is the caller's decision; the replica does not know the membership.
   *
   * @throws IllegalArgumentException if {@code value} is null and there is no live state to take
   */
  public SlotRecord claim(String session, String writer, byte[] value) {
    Objects.requireNonNull(writer, "writer");
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    Slot best = winner(head);
    byte[] v = value;
    if (v == null) {
      Slot current = best == null ? null : valueSlot(head, best);
      if (current == null || current.ended()) {
        throw new IllegalArgumentException(
            "session '" + session + "' has no live state for writer '" + writer + "' to claim");
      }
      v = current.value;
    }
    long epoch = best == null ? 1 : best.epoch + 1;
    return new SlotRecord(
        session,
        writer,
        new SlotState(epoch, SlotState.SELF, nextSeq(writer), clock.now(), v, false));
  }

  /**
   * Builds the record by which the owner ends {@code session}: it then reads as absent, and writes
   * of older epochs stay fenced until the ended slot is tombstoned (see {@link #slotsToTombstone}).
   *
   * @throws FencingException if another writer owns the session, or the owner handed it over
   * @throws IllegalStateException if the session has no live slot
   */
  public SlotRecord end(String session, String writer) {
    Slot best = winner(sessions.get(Objects.requireNonNull(session, "session")));
    if (best == null) {
      throw new IllegalStateException("session '" + session + "' is unknown; nothing to end");
    }
    if (!best.writer.equals(Objects.requireNonNull(writer, "writer"))) {
      throw new FencingException(session, writer, best.writer, best.epoch);
    }
    if (best.handoverTo != null && best.offset != best.claim()) {
      throw new FencingException(session, writer, best.handoverTo, best.epoch + 1);
    }
    return new SlotRecord(
        session,
        writer,
        new SlotState(best.epoch, best.claim(), nextSeq(writer), clock.now(), null, true));
  }

  /**
   * The tombstones {@code writer} should append now for {@code session} so that it leaves no
   * metadata behind (invariant I6). Each is safe to append in any interleaving, because removing
   * one never changes how the session reads:
   *
   * <ul>
   *   <li>{@code writer}'s own slot when it does not win (it lost a claim or was superseded);
   *   <li>when {@code writer} owns the session, or the owner is retired: the slots of retired
   *       writers (dead incarnations). Live writers clean their own slots, because a tombstone for
   *       another live writer's slot could land after that writer's newer claim and erase it;
   *   <li>the ended winning slot, once it is the session's last live slot and {@code
   *       endedRetentionMillis} have passed (against {@code nowMillis}) since the record's time,
   *       capped at when this replica applied it — a writer whose clock runs ahead cannot postpone
   *       it — to its owner or, if the owner is retired, to anyone. Until then it keeps older
   *       epochs fenced.
   * </ul>
   *
   * While the winner has written nothing but its claim, the session may read as the previous
   * owner's last record (see {@link #read}), so no slot that lies before the claim is suggested
   * until the winner writes again.
   */
  public List<SlotRecord> slotsToTombstone(
      String session, String writer, long nowMillis, long endedRetentionMillis) {
    Objects.requireNonNull(writer, "writer");
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    Slot best = winner(head);
    var out = new ArrayList<SlotRecord>();
    if (best == null) {
      return out;
    }
    boolean owner = best.writer.equals(writer);
    boolean ownerGone = retired.contains(best.writer);
    boolean claimOnly = best.offset == best.claim();
    int remaining = 0; // other live slots that stay after these tombstones
    for (Slot s = head; s != null; s = s.next) {
      if (!s.live() || s == best) {
        continue;
      }
      if ((!claimOnly || s.offset > best.offset)
          && (s.writer.equals(writer) || ((owner || ownerGone) && retired.contains(s.writer)))) {
        out.add(SlotRecord.tombstone(session, s.writer));
      } else {
        remaining++;
      }
    }
    // The ended slot goes last, after the others (in log order), and only if none would stay.
    if (best.ended()
        && remaining == 0
        && (owner || ownerGone)
        && Math.min(Hlc.physicalMillis(best.hlc), best.appliedAtMillis) + endedRetentionMillis
            <= nowMillis) {
      out.add(SlotRecord.tombstone(session, best.writer));
    }
    return out;
  }

  /**
   * True if {@code writer}'s record at {@code offset} is the session's winner now. Asked right
   * after the log delivered that record in order, it says whether the write counts: no claim of a
   * higher epoch (or an earlier claim of the same one) came before it.
   */
  public boolean winsAt(String session, String writer, long offset) {
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    Slot best = winner(head);
    return best != null && best.writer.equals(writer) && best.offset == offset;
  }

  /** True if {@code writer} owns {@code session} and has written nothing since its claim. */
  public boolean ownsByClaimOnly(String session, String writer) {
    Slot best = winner(sessions.get(Objects.requireNonNull(session, "session")));
    return best != null && best.writer.equals(writer) && best.offset == best.claim();
  }

  /**
   * Whether the claim that {@code writer} appended for {@code session} at {@code claimOffset} won.
   * {@link ClaimOutcome.Pending} until this replica has applied that record (with log-ordered
   * delivery, every earlier record of the session's partition is then applied too, so the answer is
   * final and the same on every replica).
   */
  public ClaimOutcome claimOutcome(String session, String writer, long claimOffset) {
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    Slot mine = find(head, Objects.requireNonNull(writer, "writer"));
    if (mine == null || mine.offset < claimOffset) {
      return new ClaimOutcome.Pending();
    }
    Slot best = winner(head);
    if (best == null) {
      return new ClaimOutcome.Lost(null);
    }
    SessionView v = view(session, head, best);
    return best == mine && best.claim() == claimOffset
        ? new ClaimOutcome.Won(v)
        : new ClaimOutcome.Lost(v);
  }

  private long nextSeq(String writer) {
    long[] issued = issuedSeq.computeIfAbsent(writer, w -> new long[1]);
    issued[0] = Math.max(issued[0], context.max(writer)) + 1;
    return issued[0];
  }

  // ---------------------------------------------------------------- causal context

  /** True if the write with dot ({@code writer}, {@code seq}) was applied or is subsumed. */
  public boolean hasApplied(String writer, long seq) {
    return context.contains(writer, seq);
  }

  /** Per writer, the seq up to which every write is applied or subsumed. A fresh copy. */
  public Map<String, Long> versionVector() {
    return context.versionVector();
  }

  /**
   * Tells the replica it has read the log to its end (start-up replay done, or a barrier
   * completed): every dot below the highest seen of each writer is applied or was compacted away
   * under a later record of its slot, so the dot cloud folds into the version vector.
   */
  public void markCaughtUp() {
    context.caughtUp();
  }

  // ---------------------------------------------------------------- garbage collection

  /**
   * Retires a dead writer incarnation (driven by membership: it went down and will never write
   * again): its causal-context entry and counter go at once, and owners are told to tombstone its
   * slots (see {@link #slotsToTombstone}). The retirement itself is forgotten when its last slot is
   * gone.
   */
  public void retireWriter(String writerId) {
    Objects.requireNonNull(writerId, "writerId");
    context.forget(writerId);
    issuedSeq.remove(writerId);
    if (liveSlotsByWriter.containsKey(writerId)) {
      retired.add(writerId);
    }
  }

  /** Writers that have live slots in this replica, sorted (to retire those no longer members). */
  public Set<String> writers() {
    return new TreeSet<>(liveSlotsByWriter.keySet());
  }

  /**
   * Forgets tombstone markers of {@code partition} below {@code offset}. Markers exist only so that
   * a record delivered after the tombstone that superseded it cannot come back; once every record
   * of the partition below {@code offset} has been applied (log-ordered delivery: the reader's
   * position), no such record can arrive and the markers below it can go.
   */
  public void forgetTombstonesBefore(int partition, long offset) {
    PriorityQueue<Marker> q = markers.get(partition);
    if (q == null) {
      return;
    }
    while (!q.isEmpty() && q.peek().offset() < offset) {
      Marker m = q.poll();
      Slot head = sessions.get(m.session());
      Slot prev = null;
      for (Slot s = head; s != null; prev = s, s = s.next) {
        if (s.writer.equals(m.writer())) {
          if (!s.live() && s.offset == m.offset()) {
            markerCount--;
            if (prev == null) {
              if (s.next == null) {
                sessions.remove(m.session());
              } else {
                sessions.put(m.session(), s.next);
              }
            } else {
              prev.next = s.next;
            }
          }
          break;
        }
      }
    }
    if (q.isEmpty()) {
      markers.remove(partition);
    }
  }

  // ---------------------------------------------------------------- metadata

  /**
   * An estimate of the heap this replica spends beyond session keys and state bytes: per-session
   * and per-slot bookkeeping, tombstone markers, the causal context and per-writer entries.
   */
  public long metadataBytes() {
    long writers =
        Math.max(context.writers(), liveSlotsByWriter.size()) + issuedSeq.size() + retired.size();
    // an empty replica's fixed structures (a few hundred bytes) are not counted
    long table = sessions.size() == 0 ? 0 : (long) sessions.capacity() * TABLE_REF_BYTES;
    return table
        + (long) liveSlots * SLOT_BYTES
        + (long) markerCount * MARKER_BYTES
        + writers * WRITER_BYTES
        + (long) context.cloudSize() * CLOUD_DOT_BYTES;
  }

  /**
   * True if {@code session} holds more than its winning slot, or its winner is ended: the only
   * sessions for which {@link #slotsToTombstone} can ever suggest something. Lets the owner of the
   * replica tidy only the sessions in transition instead of scanning all of them.
   */
  public boolean needsTidying(String session) {
    Slot head = sessions.get(Objects.requireNonNull(session, "session"));
    if (head == null) {
      return false;
    }
    if (head.next != null) {
      return true;
    }
    return head.live() && head.ended();
  }

  /** Live slots (records kept), all sessions together. */
  public int slotCount() {
    return liveSlots;
  }

  /** Tombstone markers kept (see {@link #forgetTombstonesBefore}). */
  public int tombstoneMarkerCount() {
    return markerCount;
  }

  @Override
  public String toString() {
    var sb = new StringBuilder("Replica{");
    sessions
        .keys()
        .forEach(
            s -> {
              sb.append(s).append(":[");
              for (Slot x = sessions.get(s); x != null; x = x.next) {
                sb.append(x.writer).append('@').append(x.offset).append('=');
                sb.append(x.live() ? x.state().toString() : "tombstone").append(' ');
              }
              sb.append("] ");
            });
    return sb.append('}').toString();
  }
}
