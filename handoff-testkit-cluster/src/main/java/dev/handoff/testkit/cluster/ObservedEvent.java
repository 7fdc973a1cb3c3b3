package dev.handoff.testkit.cluster;

import dev.handoff.MemberEvent;

/**
 * A member event as a node of a test cluster saw it, in a form that also crosses a process
 * boundary.
 *
 * @param type {@code MemberUp}, {@code MemberDown}, {@code MemberChanged} or {@code
 *     ConnectionChanged}
 * @param writerId the member incarnation the event is about ({@code memberId#epoch})
 * @param detail the down reason, the new state, or the connection state
 */
public record ObservedEvent(String type, String writerId, String detail) {

  static ObservedEvent of(MemberEvent e) {
    if (e instanceof MemberEvent.MemberUp up) {
      return new ObservedEvent("MemberUp", up.member().writerId(), up.member().state().name());
    } else if (e instanceof MemberEvent.MemberDown down) {
      return new ObservedEvent("MemberDown", down.member().writerId(), down.reason().name());
    } else if (e instanceof MemberEvent.MemberChanged ch) {
      return new ObservedEvent("MemberChanged", ch.after().writerId(), ch.after().state().name());
    } else {
      var cc = (MemberEvent.ConnectionChanged) e;
      return new ObservedEvent("ConnectionChanged", cc.self().writerId(), cc.state().name());
    }
  }

  /** The member id part of {@link #writerId()}. */
  public String memberId() {
    int i = writerId.lastIndexOf('#');
    return i < 0 ? writerId : writerId.substring(0, i);
  }

  String encode() {
    return type + " " + writerId + " " + detail;
  }

  static ObservedEvent decode(String s) {
    String[] p = s.split(" ", 3);
    return new ObservedEvent(p[0], p[1], p[2]);
  }
}
