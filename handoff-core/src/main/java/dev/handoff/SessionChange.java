package dev.handoff;

import java.util.Objects;
import java.util.Optional;

/**
 * A change to one session that arrived from another node (the counterpart of DeltaCrdt's {@code
 * on_diffs}).
 *
 * @param key the session key
 * @param owner the writer that owns the session after the change
 * @param epoch the ownership epoch after the change
 * @param state the session's state after the change; empty if the session ended
 * @param <T> the application's state type
 */
public record SessionChange<T>(String key, WriterId owner, long epoch, Optional<T> state) {
  public SessionChange {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(state, "state");
  }
}
