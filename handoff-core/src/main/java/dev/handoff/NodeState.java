package dev.handoff;

/** Where a {@link StateHandoff} node is in its life. */
public enum NodeState {
  /** Built, {@code start()} not called yet. */
  NEW,
  /** Joining the membership and replaying the log; not serving yet. */
  STARTING,
  /** Ready: serving stashes, pickups and reads. */
  RUNNING,
  /** {@code leave()} called: refusing new writes, waiting for pending ones, then leaving. */
  LEAVING,
  /** Left the cluster gracefully; reads of the local replica still work. */
  LEFT,
  /**
   * Out of service for good: the log reader stopped, or a newer incarnation of this member took
   * over. Every operation fails; the node has left the membership so others can take its sessions.
   * {@link StateHandoff#failure()} says why.
   */
  FAILED,
  /** Closed. */
  CLOSED
}
