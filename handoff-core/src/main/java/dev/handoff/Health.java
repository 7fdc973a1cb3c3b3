package dev.handoff;

import java.util.Optional;

/**
 * What a readiness or liveness probe needs to know about one node, as {@link StateHandoff#health()}
 * sees it now.
 *
 * @param state where the node is in its life
 * @param replayPercent how much of the log the start-up replay has read, 0 to 100 (100 once
 *     replayed); -1 if the log does not tell
 * @param readerLag records in the log that the node's reader has not read yet, summed over the
 *     partitions; -1 if the log does not tell
 * @param membershipConnected true while the node is registered and may write (its membership
 *     session is not lost)
 * @param lastError why the node failed, or else the last unexpected error of an operation (a
 *     timeout or a log failure, not an expected refusal such as {@code Fenced}); empty if none
 */
public record Health(
    NodeState state,
    double replayPercent,
    long readerLag,
    boolean membershipConnected,
    Optional<String> lastError) {

  /** Ready to serve: running, and its membership connected. What a readiness probe should ask. */
  public boolean ready() {
    return state == NodeState.RUNNING && membershipConnected;
  }

  /**
   * Worth keeping: not failed and not closed (restart it otherwise). What a liveness probe should
   * ask; a node that is starting, leaving or has left is alive.
   */
  public boolean alive() {
    return state != NodeState.FAILED && state != NodeState.CLOSED;
  }
}
