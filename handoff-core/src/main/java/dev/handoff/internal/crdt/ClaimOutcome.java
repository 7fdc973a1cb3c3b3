package dev.handoff.internal.crdt;

/** Whether a claim appended at a given offset won its epoch, as far as a replica can tell. */
public sealed interface ClaimOutcome {

  /** The claim won: the claimant owns the session from now on (until a higher epoch). */
  record Won(SessionView session) implements ClaimOutcome {}

  /**
   * The claim lost, or was superseded: {@code winner} is the current view (null if the session now
   * reads as nothing at all).
   */
  record Lost(SessionView winner) implements ClaimOutcome {}

  /** The replica has not yet applied the claim record; ask again after it has. */
  record Pending() implements ClaimOutcome {}
}
