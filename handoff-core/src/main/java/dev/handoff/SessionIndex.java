package dev.handoff;

import dev.handoff.internal.crdt.Replica;
import dev.handoff.internal.crdt.SessionView;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * How each session reads now, for the API's lock-free queries ({@code peek}, {@code owner}, {@code
 * keys}, ...), and which sessions are in transition (more than one slot, or ended) and so the only
 * ones housekeeping looks at.
 *
 * <p>Written on the owner thread only; the views are read by any thread. During the start's replay
 * records only go into the replica: the index is built from it in one pass, into a presized map,
 * when the replay is done ({@link #rebuild}), and updated per record after that.
 */
final class SessionIndex {

  private volatile ConcurrentHashMap<String, SessionView> views = new ConcurrentHashMap<>();
  private boolean built;
  private final Set<String> untidy = new HashSet<>();

  /** The session's view, or null if no slot of it is live. Any thread. */
  SessionView get(String session) {
    return views.get(session);
  }

  /** Sessions with a view (live and recently ended). Any thread. */
  int size() {
    return views.size();
  }

  /** False until {@link #rebuild}: records then only change the replica. */
  boolean built() {
    return built;
  }

  /** Re-reads {@code session} from the replica after a record changed it. Owner thread. */
  SessionView update(Replica replica, String session) {
    SessionView after = replica.read(session).orElse(null);
    if (after == null) {
      views.remove(session);
    } else {
      views.put(session, after);
    }
    if (replica.needsTidying(session)) {
      untidy.add(session);
    }
    return after;
  }

  /** Builds every view from the replica in one pass (the replay is done). Owner thread. */
  void rebuild(Replica replica) {
    var fresh =
        new ConcurrentHashMap<String, SessionView>(
            Math.max(16, (int) Math.min(1 << 30, replica.knownSessionCount() * 4L / 3 + 1)));
    replica.forEachView(
        (view, needsTidying) -> {
          fresh.put(view.session(), view);
          if (needsTidying) {
            untidy.add(view.session());
          }
        });
    views = fresh;
    built = true;
  }

  /** The sessions housekeeping should look at; remove those that are tidy. Owner thread. */
  Iterator<String> untidy() {
    return untidy.iterator();
  }

  /** The live (not ended) sessions, sorted. A snapshot. */
  Set<String> liveKeys() {
    var out = new TreeSet<String>();
    views.forEach(
        (k, v) -> {
          if (!v.ended()) {
            out.add(k);
          }
        });
    return out;
  }

  /** The live sessions whose view matches {@code p}, sorted, unmodifiable. */
  Set<String> liveKeysWhere(Predicate<SessionView> p) {
    var out = new TreeSet<String>();
    views.forEach(
        (k, v) -> {
          if (!v.ended() && p.test(v)) {
            out.add(k);
          }
        });
    return Collections.unmodifiableSet(out);
  }

  /** Calls {@code action} for every live session's view. */
  void forEachLive(java.util.function.BiConsumer<String, SessionView> action) {
    views.forEach(
        (k, v) -> {
          if (!v.ended()) {
            action.accept(k, v);
          }
        });
  }
}
