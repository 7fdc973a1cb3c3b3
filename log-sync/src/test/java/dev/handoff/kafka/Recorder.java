package dev.handoff.kafka;

import dev.handoff.internal.crdt.Replica;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/** A sink that keeps every delivered entry; read from test threads. */
final class Recorder implements Consumer<LogEntry> {

  /** A slot: one writer's record key for one session. */
  record Slot(String session, String writer) {}

  private final List<LogEntry> entries = new ArrayList<>();

  @Override
  public synchronized void accept(LogEntry e) {
    entries.add(e);
  }

  synchronized List<LogEntry> entries() {
    return List.copyOf(entries);
  }

  synchronized int size() {
    return entries.size();
  }

  /**
   * The map a replica would hold: per slot, the state of its highest-offset record; slots whose
   * last record is a tombstone are absent.
   */
  synchronized Map<Slot, SlotState> liveSlots() {
    return liveSlots(entries);
  }

  static Map<Slot, SlotState> liveSlots(List<LogEntry> entries) {
    Map<Slot, LogEntry> last = new HashMap<>();
    for (LogEntry e : entries) {
      last.merge(
          new Slot(e.record().session(), e.record().writer()),
          e,
          (a, b) -> b.offset() > a.offset() ? b : a);
    }
    Map<Slot, SlotState> live = new HashMap<>();
    last.forEach(
        (slot, e) -> {
          if (!e.record().isTombstone()) {
            live.put(slot, e.record().state());
          }
        });
    return live;
  }

  synchronized boolean contains(String session, String writer, long seq) {
    return entries.stream()
        .anyMatch(
            e ->
                e.record().session().equals(session)
                    && e.record().writer().equals(writer)
                    && e.record().state() != null
                    && e.record().state().seq() == seq);
  }

  /**
   * What core's {@link Replica} makes of the delivered records: per live session, its owner and its
   * value (as text). Sessions whose name starts with {@code ignoredPrefix} are left out.
   */
  synchronized Map<String, String> replicaView(String ignoredPrefix) {
    var replica = new Replica();
    entries.forEach(replica::apply);
    Map<String, String> view = new HashMap<>();
    for (String session : replica.sessions()) {
      if (ignoredPrefix.isEmpty() || !session.startsWith(ignoredPrefix)) {
        view.put(
            session,
            replica.owner(session).orElseThrow()
                + "="
                + new String(replica.value(session).orElseThrow(), StandardCharsets.UTF_8));
      }
    }
    return view;
  }

  /** Every (session, writer, seq) delivered with a state, as "session/writer/seq". */
  synchronized Set<String> writes() {
    Set<String> out = new HashSet<>();
    for (LogEntry e : entries) {
      if (e.record().state() != null) {
        out.add(e.record().session() + "/" + e.record().writer() + "/" + e.record().state().seq());
      }
    }
    return out;
  }

  static List<LogEntry> copy(List<LogEntry> l) {
    return new ArrayList<>(l);
  }
}
