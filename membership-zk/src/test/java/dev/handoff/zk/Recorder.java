package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberChanged;
import dev.handoff.MemberEvent.MemberDown;
import dev.handoff.MemberEvent.MemberUp;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A listener that keeps every event it got, with the time it got it. */
final class Recorder implements Consumer<MemberEvent> {

  record Seen(long nanos, MemberEvent event) {}

  private final List<Seen> seen = new CopyOnWriteArrayList<>();

  @Override
  public void accept(MemberEvent event) {
    seen.add(new Seen(System.nanoTime(), event));
  }

  List<MemberEvent> events() {
    return seen.stream().map(Seen::event).toList();
  }

  boolean has(Predicate<MemberEvent> p) {
    return first(p).isPresent();
  }

  List<Seen> all(Predicate<MemberEvent> p) {
    return seen.stream().filter(s -> p.test(s.event())).toList();
  }

  Optional<Seen> first(Predicate<MemberEvent> p) {
    return seen.stream().filter(s -> p.test(s.event())).findFirst();
  }

  int indexOf(Predicate<MemberEvent> p) {
    var events = events();
    for (int i = 0; i < events.size(); i++) {
      if (p.test(events.get(i))) {
        return i;
      }
    }
    return -1;
  }

  long count(Predicate<MemberEvent> p) {
    return events().stream().filter(p).count();
  }

  static Predicate<MemberEvent> up(String id) {
    return e -> e instanceof MemberUp u && u.member().id().equals(id);
  }

  static Predicate<MemberEvent> up(Member m) {
    return e -> e instanceof MemberUp u && u.member().writerId().equals(m.writerId());
  }

  static Predicate<MemberEvent> anyDown() {
    return e -> e instanceof MemberDown;
  }

  static Predicate<MemberEvent> down(Member m, DownReason reason) {
    return e ->
        e instanceof MemberDown d
            && d.member().writerId().equals(m.writerId())
            && d.reason() == reason;
  }

  static Predicate<MemberEvent> down(Member m) {
    return e -> e instanceof MemberDown d && d.member().writerId().equals(m.writerId());
  }

  static Predicate<MemberEvent> changedTo(Member m, dev.handoff.MemberState state) {
    return e ->
        e instanceof MemberChanged c
            && c.after().writerId().equals(m.writerId())
            && c.after().state() == state;
  }

  static Predicate<MemberEvent> connection(ConnectionState state) {
    return e -> e instanceof ConnectionChanged c && c.state() == state;
  }
}
