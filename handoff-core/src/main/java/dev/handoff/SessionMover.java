package dev.handoff;

/**
 * How the application lets a drain move its sessions: a session is stopped only when its own
 * transfer starts ({@link #stop}), and resumed here if the transfer does not happen ({@link
 * #kept}). Calls come from the drain's thread, one at a time.
 *
 * @param <T> the application's state type
 */
public interface SessionMover<T> {

  /**
   * Stops {@code session} now (no more changes to it on this node) and returns its final state,
   * which is what the receiver resumes from.
   */
  T stop(String session);

  /**
   * The transfer of {@code session} did not happen (no receiver took it in time): this node still
   * owns it, with {@code state}; resume it. By default nothing happens.
   */
  default void kept(String session, T state) {}
}
