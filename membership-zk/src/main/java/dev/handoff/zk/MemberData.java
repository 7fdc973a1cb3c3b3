package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberState;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The payload of a registration znode: a few {@code key=value} lines, values URL-encoded, UTF-8.
 *
 * <p>Readers ignore keys they do not know, so a later version can add fields without breaking older
 * peers during a rolling deploy. The epoch is not stored: it is the znode's {@code czxid}. {@code
 * since} is the epoch of the first registration of the process that wrote the znode (written only
 * by re-registrations; absent, it is the znode's own czxid): twins are ranked by it, so that a
 * process re-registering after a loss never outranks a process that started after it.
 */
final class MemberData {
  static final String FORMAT_KEY = "handoff-member";
  static final String FORMAT_VERSION = "1";

  /** A decoded payload: the member, and the first epoch of its process. */
  record Payload(Member member, long since) {}

  private MemberData() {}

  /** The payload of a first registration. */
  static byte[] encode(Member member, String incarnation) {
    return encode(member, incarnation, 0);
  }

  /**
   * The payload of a registration of a process whose first registration had epoch {@code since} (0:
   * this is the first, the znode's own czxid will say it).
   */
  static byte[] encode(Member member, String incarnation, long since) {
    var text =
        FORMAT_KEY
            + "="
            + FORMAT_VERSION
            + "\nid="
            + enc(member.id())
            + "\nhost="
            + enc(member.host())
            + "\nversion="
            + enc(member.version())
            + "\nincarnation="
            + enc(incarnation)
            + "\nstate="
            + member.state().name()
            + "\n"
            + (since > 0 ? "since=" + since + "\n" : "");
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a payload written by {@link #encode}. Returns empty if the bytes are not a member payload
   * (missing keys, unknown state, not our format).
   */
  static Optional<Member> decode(byte[] data, long epoch) {
    return read(data, epoch).map(Payload::member);
  }

  /**
   * Reads a payload with its {@code since} (the epoch itself when absent or unreadable). Empty if
   * the bytes are not a member payload.
   */
  static Optional<Payload> read(byte[] data, long epoch) {
    if (data == null) {
      return Optional.empty();
    }
    Map<String, String> fields = new HashMap<>();
    for (var line : new String(data, StandardCharsets.UTF_8).split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        try {
          fields.put(line.substring(0, eq), dec(line.substring(eq + 1)));
        } catch (IllegalArgumentException badEscape) {
          return Optional.empty();
        }
      }
    }
    if (!fields.containsKey(FORMAT_KEY)) {
      return Optional.empty();
    }
    var id = fields.get("id");
    var host = fields.get("host");
    var version = fields.get("version");
    var state = stateOf(fields.get("state"));
    if (id == null || id.isEmpty() || host == null || version == null || state == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Payload(
            new Member(id, epoch, host, version, state), sinceOf(fields.get("since"), epoch)));
  }

  private static long sinceOf(String value, long epoch) {
    if (value == null) {
      return epoch;
    }
    try {
      long since = Long.parseLong(value);
      return since > 0 && since <= epoch ? since : epoch;
    } catch (NumberFormatException e) {
      return epoch;
    }
  }

  private static MemberState stateOf(String name) {
    if (name == null) {
      return null;
    }
    for (var s : MemberState.values()) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
