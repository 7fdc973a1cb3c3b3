package dev.handoff;

import dev.handoff.internal.crdt.SessionView;
import dev.handoff.spi.StateCodec;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application's listeners and the executor they run on: member events and remote session
 * changes are handed to the callback executor in order, so a slow or failing listener never holds
 * up the log or the membership.
 */
final class Listeners<T> {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private final StateCodec<T> codec;
  private final Executor callbacks;
  private final ExecutorService ownCallbacks;
  private final List<Consumer<MemberEvent>> memberListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<SessionChange<T>>> changeListeners = new CopyOnWriteArrayList<>();

  /** {@code executor} null: one daemon thread of this instance. */
  Listeners(StateCodec<T> codec, Executor executor, String name) {
    this.codec = codec;
    if (executor != null) {
      this.callbacks = executor;
      this.ownCallbacks = null;
    } else {
      this.ownCallbacks =
          Executors.newSingleThreadExecutor(OwnerLoop.daemon("handoff-callbacks-" + name));
      this.callbacks = ownCallbacks;
    }
  }

  /** The executor listeners run on. */
  Executor executor() {
    return callbacks;
  }

  AutoCloseable addMemberListener(Consumer<MemberEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    memberListeners.add(listener);
    return () -> memberListeners.remove(listener);
  }

  AutoCloseable addChangeListener(Consumer<SessionChange<T>> listener) {
    Objects.requireNonNull(listener, "listener");
    changeListeners.add(listener);
    return () -> changeListeners.remove(listener);
  }

  boolean hasChangeListeners() {
    return !changeListeners.isEmpty();
  }

  void memberEvent(MemberEvent event) {
    for (Consumer<MemberEvent> l : memberListeners) {
      callbacks.execute(() -> safely(() -> l.accept(event)));
    }
  }

  /** A session changed by another node: decoded on the callback executor, then reported. */
  void remoteChange(SessionView view) {
    for (Consumer<SessionChange<T>> l : changeListeners) {
      callbacks.execute(
          () ->
              safely(
                  () -> {
                    Optional<T> state =
                        view.ended() ? Optional.empty() : Optional.of(codec.decode(view.value()));
                    l.accept(
                        new SessionChange<>(
                            view.session(), WriterId.fromLog(view.owner()), view.epoch(), state));
                  }));
    }
  }

  void close() {
    if (ownCallbacks != null) {
      ownCallbacks.shutdown();
    }
  }

  private static void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("listener failed", e);
    }
  }
}
