package dev.handoff.demo;

import java.util.Arrays;
import java.util.List;

/**
 * What a {@link GameNode} tells the orchestrator, one line on its standard output each. Fields are
 * separated by single spaces; session ids and writer ids contain no spaces. Times are epoch
 * microseconds of the node's wall clock (nodes and orchestrator share one machine and clock).
 */
sealed interface NodeMessage {

  /** The line this message is sent as. */
  String encode();

  /** The node replayed the log and serves, as incarnation {@code writerId} of {@code version}. */
  record Ready(String writerId, String version) implements NodeMessage {
    @Override
    public String encode() {
      return "READY " + writerId + " " + version;
    }
  }

  /** The node waits for an earlier incarnation of its member id to go before picking up. */
  record Waiting(String incarnation) implements NodeMessage {
    @Override
    public String encode() {
      return "WAIT " + incarnation;
    }
  }

  /**
   * The node saw the earlier incarnation {@code incarnation} of its member id go at {@code micros}.
   */
  record Gone(String incarnation, long micros) implements NodeMessage {
    @Override
    public String encode() {
      return "GONE " + incarnation + " " + micros;
    }
  }

  /**
   * The node's adoption of its member id's earlier incarnations is over at {@code micros}: {@code
   * adopted} sessions claimed (each reported by a {@link Hosting} line), {@code skipped} taken by
   * others or ended meanwhile, {@code failed} not claimed; it took {@code millis} from the call.
   */
  record Adopted(int adopted, int skipped, int failed, long millis, long micros)
      implements NodeMessage {
    @Override
    public String encode() {
      return "ADOPTED " + adopted + " " + skipped + " " + failed + " " + millis + " " + micros;
    }
  }

  /**
   * The node started hosting a session: created it ({@code pickedUp == false}, at tick 0) or took
   * it over (handed to it, or adopted) at tick {@code fromTick}, decoded with level {@code
   * levelRead} (0 on a v1 node, whose schema has no level); it played its first tick at {@code
   * micros}.
   */
  record Hosting(String session, boolean pickedUp, long fromTick, int levelRead, long micros)
      implements NodeMessage {
    @Override
    public String encode() {
      return String.join(
          " ",
          "HOST",
          session,
          pickedUp ? "pickup" : "new",
          Long.toString(fromTick),
          Integer.toString(levelRead),
          Long.toString(micros));
    }
  }

  /**
   * The node stopped ticking the session after tick {@code tick}: {@code moving} (stopped for its
   * own transfer, or for the final stash of a drain that could not hand it over), {@code shutdown}
   * (stopped with all others for the final stashes) or {@code fenced}.
   */
  record Stopped(String session, long tick, long micros, String reason) implements NodeMessage {
    @Override
    public String encode() {
      return "STOP " + session + " " + tick + " " + micros + " " + reason;
    }
  }

  /** A stash of the session at tick {@code tick} was acknowledged by the log at {@code micros}. */
  record Acked(String session, long tick, long micros) implements NodeMessage {
    @Override
    public String encode() {
      return "ACK " + session + " " + tick + " " + micros;
    }
  }

  /** A stash failed. */
  record StashFailed(String session, long tick, String error) implements NodeMessage {
    @Override
    public String encode() {
      return "NACK " + session + " " + tick + " " + oneLine(error);
    }
  }

  /** A pickup found no state, or failed for good. */
  record PickupFailed(String session, String error) implements NodeMessage {
    @Override
    public String encode() {
      return "PFAIL " + session + " " + oneLine(error);
    }
  }

  /** Reply to {@code LIST}: every hosted session as {@code id:tick:level}. */
  record Hosted(List<String> sessions) implements NodeMessage {
    @Override
    public String encode() {
      return "HOSTED " + sessions.size() + " " + String.join(",", sessions);
    }
  }

  /**
   * A few of the node's Micrometer meters (handoff-micrometer), every second: successful stashes
   * and pickups with their mean time, fenced writes, log records skipped.
   */
  record Meters(
      long stashes,
      double stashMeanMs,
      long pickups,
      double pickupMeanMs,
      long fenced,
      long skipped)
      implements NodeMessage {
    @Override
    public String encode() {
      return String.format(
          java.util.Locale.ROOT,
          "METERS %d %.3f %d %.3f %d %d",
          stashes,
          stashMeanMs,
          pickups,
          pickupMeanMs,
          fenced,
          skipped);
    }
  }

  /** Counters, every second. */
  record Stats(int hosting, long acked, long stashFailures, long peeks, long decodeErrors)
      implements NodeMessage {
    @Override
    public String encode() {
      return "STATS "
          + hosting
          + " "
          + acked
          + " "
          + stashFailures
          + " "
          + peeks
          + " "
          + decodeErrors;
    }
  }

  /**
   * The shutdown hook stashed all {@code total} hosted sessions; {@code acked} were acknowledged.
   */
  record Stashed(int total, int acked, long millis) implements NodeMessage {
    @Override
    public String encode() {
      return "STASHED " + total + " " + acked + " " + millis;
    }
  }

  /** Parses a line; null for a line that is not a message. */
  static NodeMessage decode(String line) {
    String[] p = line.split(" ", -1);
    try {
      switch (p[0]) {
        case "READY":
          return new Ready(p[1], p[2]);
        case "WAIT":
          return new Waiting(p[1]);
        case "GONE":
          return new Gone(p[1], Long.parseLong(p[2]));
        case "ADOPTED":
          return new Adopted(
              Integer.parseInt(p[1]),
              Integer.parseInt(p[2]),
              Integer.parseInt(p[3]),
              Long.parseLong(p[4]),
              Long.parseLong(p[5]));
        case "HOST":
          return new Hosting(
              p[1],
              p[2].equals("pickup"),
              Long.parseLong(p[3]),
              Integer.parseInt(p[4]),
              Long.parseLong(p[5]));
        case "STOP":
          return new Stopped(p[1], Long.parseLong(p[2]), Long.parseLong(p[3]), p[4]);
        case "ACK":
          return new Acked(p[1], Long.parseLong(p[2]), Long.parseLong(p[3]));
        case "NACK":
          return new StashFailed(p[1], Long.parseLong(p[2]), rest(p, 3));
        case "PFAIL":
          return new PickupFailed(p[1], rest(p, 2));
        case "HOSTED":
          return new Hosted(Integer.parseInt(p[1]) == 0 ? List.of() : List.of(p[2].split(",")));
        case "METERS":
          return new Meters(
              Long.parseLong(p[1]),
              Double.parseDouble(p[2]),
              Long.parseLong(p[3]),
              Double.parseDouble(p[4]),
              Long.parseLong(p[5]),
              Long.parseLong(p[6]));
        case "STATS":
          return new Stats(
              Integer.parseInt(p[1]),
              Long.parseLong(p[2]),
              Long.parseLong(p[3]),
              Long.parseLong(p[4]),
              Long.parseLong(p[5]));
        case "STASHED":
          return new Stashed(Integer.parseInt(p[1]), Integer.parseInt(p[2]), Long.parseLong(p[3]));
        default:
          return null;
      }
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String rest(String[] p, int from) {
    return String.join(" ", Arrays.copyOfRange(p, from, p.length));
  }

  private static String oneLine(String s) {
    return String.valueOf(s).replace('\n', ' ').replace('\r', ' ');
  }
}
