package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberChanged;
import dev.handoff.MemberEvent.MemberDown;
import dev.handoff.MemberEvent.MemberUp;
import dev.handoff.MemberState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What this node knows about the registration znodes of its group, and the events that follow from
 * each thing it reads. Pure bookkeeping, no I/O, confined to the membership loop thread.
 *
 * <p>Every znode is one member incarnation. Why a znode went away is decided in {@link #reasonFor}:
 * the whole "nodedown" policy lives there.
 */
final class GroupView {

  static final Comparator<Member> ORDER =
      Comparator.comparing(Member::id).thenComparingLong(Member::epoch);

  /** A live registration znode: its name, its member, and the first epoch of its process. */
  record Incarnation(String name, Member member, long since) {}

  /** One child znode of the group, by name. */
  private static final class Entry {
    final String name;
    long czxid; // 0 until first read
    Member member; // null until read and decoded: not yet reported up
    long since; // first epoch of the member's process
    boolean changePending; // a data-change notification came that no read has answered yet
    boolean unreadable; // payload is not a member payload; ignored until it changes

    Entry(String name) {
      this.name = name;
    }
  }

  private final Map<String, Entry> entries = new HashMap<>();
  private final Set<String> knownExpired = new HashSet<>();
  private boolean resyncing;

  /**
   * From now until {@link #endResync()}, a member found missing may have gone at any time while
   * this node was not watching: its reason is UNKNOWN unless it had announced LEAVING.
   */
  void beginResync() {
    resyncing = true;
  }

  void endResync() {
    resyncing = false;
  }

  boolean resyncing() {
    return resyncing;
  }

  /** The znode {@code name} belonged to a session this node knows has expired (its own). */
  void markExpired(String name) {
    knownExpired.add(name);
  }

  /**
   * Applies a fresh children list. Adds events for members that vanished to {@code out} and returns
   * the names whose data must be read (new ones, or all of them while resyncing, since watches may
   * have been lost with the connection).
   */
  List<String> onChildren(Collection<String> names, List<MemberEvent> out) {
    var present = new HashSet<>(names);
    for (var it = entries.values().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!present.contains(e.name)) {
        it.remove();
        down(e, out);
      }
    }
    var toRead = new ArrayList<String>();
    for (var name : names) {
      var e = entries.get(name);
      if (e == null) {
        entries.put(name, new Entry(name));
        toRead.add(name);
      } else if (resyncing || e.member == null && !e.unreadable) {
        toRead.add(name);
      }
    }
    return toRead;
  }

  /** A data-change notification arrived for {@code name}; the caller reads it again. */
  boolean onDataChanged(String name) {
    var e = entries.get(name);
    if (e == null) {
      return false;
    }
    e.changePending = true;
    e.unreadable = false;
    return true;
  }

  /**
   * A read of {@code name} returned this payload ({@code decoded} null if it is not a member
   * payload) and this czxid.
   */
  void onData(String name, long czxid, Member decoded, List<MemberEvent> out) {
    onData(name, czxid, decoded, czxid, out);
  }

  /** As {@link #onData(String, long, Member, List)}, with the first epoch of the process. */
  void onData(String name, long czxid, Member decoded, long since, List<MemberEvent> out) {
    var e = entries.get(name);
    if (e == null) {
      return; // a later children list already said it is gone
    }
    e.changePending = false;
    if (e.czxid != 0 && e.czxid != czxid) {
      // Same name, different znode: the one we knew went away unseen.
      entries.remove(name);
      down(e, DownReason.UNKNOWN, out);
      e = new Entry(name);
      entries.put(name, e);
    }
    e.czxid = czxid;
    if (decoded == null) {
      e.unreadable = true;
      if (e.member != null) {
        // It was a member and now is not: for peers this incarnation is no longer usable.
        var before = e.member;
        e.member = null;
        out.add(new MemberDown(before, DownReason.UNKNOWN));
      }
      return;
    }
    e.unreadable = false;
    e.since = since;
    var before = e.member;
    e.member = decoded;
    if (before == null) {
      out.add(new MemberUp(decoded));
    } else if (!before.equals(decoded)) {
      out.add(new MemberChanged(before, decoded));
    }
  }

  /** The znode {@code name} is gone (a NONODE read or a NodeDeleted notification). */
  void onGone(String name, List<MemberEvent> out) {
    var e = entries.remove(name);
    if (e != null) {
      down(e, out);
    }
  }

  private void down(Entry e, List<MemberEvent> out) {
    down(e, reasonFor(e), out);
  }

  private void down(Entry e, DownReason reason, List<MemberEvent> out) {
    knownExpired.remove(e.name);
    if (e.member != null) {
      out.add(new MemberDown(e.member, reason));
    }
  }

  /**
   * Why the znode of {@code e} went away.
   *
   * <ul>
   *   <li>Its member announced LEAVING: it left gracefully.
   *   <li>It was this node's own incarnation from an expired session: expired.
   *   <li>This node was disconnected or is catching up after a reconnect: the znode may have gone
   *       at any time while nobody watched, so the cause is unknown.
   *   <li>Its data had just changed and the znode was gone before the change could be read: a
   *       graceful leave (LEAVING, then delete). Expiry cannot follow a write that closely, because
   *       ZooKeeper only expires a session that has been silent for its whole timeout.
   *   <li>Otherwise the session that owned it ended without a leave: expired.
   * </ul>
   */
  private DownReason reasonFor(Entry e) {
    if (e.member != null && e.member.state() == MemberState.LEAVING) {
      return DownReason.LEFT;
    }
    if (knownExpired.contains(e.name)) {
      return DownReason.EXPIRED;
    }
    if (resyncing) {
      return DownReason.UNKNOWN;
    }
    if (e.changePending) {
      return DownReason.LEFT;
    }
    return DownReason.EXPIRED;
  }

  /** True if every znode is read (reported or known unreadable). */
  boolean allRead() {
    for (var e : entries.values()) {
      if (e.member == null && !e.unreadable) {
        return false;
      }
    }
    return true;
  }

  boolean contains(String name) {
    return entries.containsKey(name);
  }

  /** The live incarnations of member id {@code id}, in no particular order. */
  List<Incarnation> incarnationsOf(String id) {
    var list = new ArrayList<Incarnation>();
    for (var e : entries.values()) {
      if (e.member != null && e.member.id().equals(id)) {
        list.add(new Incarnation(e.name, e.member, e.since));
      }
    }
    return list;
  }

  /** Live members, ordered by id then epoch. */
  List<Member> members() {
    var list = new ArrayList<Member>();
    for (var e : entries.values()) {
      if (e.member != null) {
        list.add(e.member);
      }
    }
    list.sort(ORDER);
    return List.copyOf(list);
  }
}
