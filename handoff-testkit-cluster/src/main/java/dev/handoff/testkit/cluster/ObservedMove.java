package dev.handoff.testkit.cluster;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * A session that moved as a node of a test cluster saw it, in a form that also crosses a process
 * boundary.
 *
 * @param how {@code stopped} (this node's drain stopped it for its transfer), {@code handover}
 *     (handed to this node by another's drain or handover), {@code adopted} (this node adopted it
 *     from an earlier or gone incarnation) or {@code kept} (this node's drain found no receiver for
 *     it: it still owns it and resumes it)
 * @param session the session key
 * @param state its state at that moment
 * @param from the writer id that owned it before ({@code stopped}, {@code kept}: this node's)
 */
public record ObservedMove(String how, String session, String state, String from) {

  String encode() {
    return String.join(" ", how, enc(session), enc(state), enc(from));
  }

  static ObservedMove decode(String s) {
    String[] p = s.split(" ", -1);
    return new ObservedMove(p[0], dec(p[1]), dec(p[2]), dec(p[3]));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
