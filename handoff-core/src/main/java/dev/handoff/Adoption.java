package dev.handoff;

import java.time.Duration;

/**
 * How an {@link StateHandoff#adopt adoption} ended.
 *
 * @param adopted sessions this node claimed (each reported to the caller as it was owned)
 * @param skipped sessions another node took first, or that ended meanwhile
 * @param failed sessions that could not be claimed within the budget
 * @param took how long it took from the call
 */
public record Adoption(int adopted, int skipped, int failed, Duration took) {}
