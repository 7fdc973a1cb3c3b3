package dev.handoff.testkit.cluster.history;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One operation of the fault workload as a node's history recorded it: who invoked it, on which
 * session, what it wrote, when it was invoked and completed, and what the caller was told.
 *
 * <p>Times are {@link System#nanoTime()} readings. On Linux that is {@code CLOCK_MONOTONIC}, one
 * clock for every process on the host (it counts from boot and never jumps with NTP), so readings
 * from different node JVMs can be compared; {@code currentTimeMillis} could step backwards and has
 * only millisecond resolution.
 *
 * @param node the process that ran it (a member id plus a launch number, unique per process)
 * @param seq the operation's number within {@code node}
 * @param writer the node's writer id ({@code memberId#epoch}) when the operation was invoked
 * @param type what was called
 * @param key the session
 * @param written for a stash, the value it wrote; otherwise null
 * @param base for a stash, the value it was derived from (the writer's previous stash or what its
 *     pickup returned); null for the stash that created the session and for other operations
 * @param invokedAt when the call was made
 * @param completedAt when the caller was told the outcome; {@link Long#MAX_VALUE} if it never was
 * @param outcome what the caller was told
 * @param result for an ok pickup or read, the value returned (null: absent); for a failure or
 *     unknown outcome, the exception's class; otherwise null
 */
public record Op(
    String node,
    long seq,
    String writer,
    Type type,
    String key,
    String written,
    String base,
    long invokedAt,
    long completedAt,
    Outcome outcome,
    String result) {

  /** The calls of the workload (on {@code StateHandoff}). */
  public enum Type {
    STASH,
    PICKUP,
    END,
    READ
  }

  /** What the caller was told. */
  public enum Outcome {
    OK,
    FAIL,
    /** Timed out, or no completion was ever recorded (the node was killed first). */
    UNKNOWN
  }

  /** Failures the API promises had no effect ("The write was not applied"). */
  private static final Set<String> NO_EFFECT =
      Set.of("Fenced", "OwnedElsewhere", "TooLarge", "NotReady");

  public Op {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(writer, "writer");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(outcome, "outcome");
    if (type == Type.STASH && written == null) {
      throw new IllegalArgumentException("a stash must say what it wrote: " + node + "/" + seq);
    }
  }

  public boolean ok() {
    return outcome == Outcome.OK;
  }

  /**
   * True unless the caller was told it failed in a way that promises no effect. Unknown outcomes
   * and other failures (a log error, "closed") may have taken effect.
   */
  public boolean possiblyApplied() {
    return switch (outcome) {
      case OK, UNKNOWN -> true;
      case FAIL -> !NO_EFFECT.contains(result);
    };
  }

  /** For an ok pickup or read: the value it returned, empty if absent. */
  public Optional<String> returned() {
    return Optional.ofNullable(outcome == Outcome.OK ? result : null);
  }

  /** True for a pickup that completed ok and returned a state: the writer then owns the session. */
  public boolean acquired() {
    return type == Type.PICKUP && ok() && result != null;
  }

  /** A pickup that may have claimed the session: ok with a state, or of unknown outcome. */
  public boolean possiblyAcquired() {
    return type == Type.PICKUP && (acquired() || (outcome != Outcome.OK && possiblyApplied()));
  }

  public boolean completed() {
    return completedAt != Long.MAX_VALUE;
  }

  /** One line for reports; times in ms since {@code origin}. */
  public String describe(long origin) {
    var b = new StringBuilder();
    b.append(String.format("[%10.3f → ", (invokedAt - origin) / 1e6));
    b.append(
        completed() ? String.format("%10.3f ms] ", (completedAt - origin) / 1e6) : "  (none)   ] ");
    b.append(node).append(' ').append(writer).append(' ').append(type.name().toLowerCase());
    b.append(' ').append(key);
    if (written != null) {
      b.append(" := ").append(written).append(" (from ").append(base == null ? "nothing" : base);
      b.append(')');
    }
    b.append(" → ").append(outcome.name().toLowerCase());
    if (outcome == Outcome.OK && (type == Type.PICKUP || type == Type.READ)) {
      b.append(' ').append(result == null ? "absent" : result);
    } else if (outcome != Outcome.OK && result != null) {
      b.append('(').append(result).append(')');
    }
    return b.toString();
  }
}
