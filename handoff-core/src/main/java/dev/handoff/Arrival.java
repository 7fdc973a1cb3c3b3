package dev.handoff;

import java.util.Objects;

/**
 * A session that became this node's through a handover or an adoption, at the moment this node owns
 * it: resume it from {@code state}.
 *
 * @param session the session key
 * @param state its state when this node took it over
 * @param from the writer that owned it before
 * @param <T> the application's state type
 */
public record Arrival<T>(String session, T state, WriterId from) {
  public Arrival {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(from, "from");
  }
}
