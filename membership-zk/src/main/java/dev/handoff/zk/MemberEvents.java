package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.MemberUp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners of one member and the thread that calls them ({@code
 * handoff-zk-events-<memberId>}): events are delivered in the order they are published, and a
 * listener that throws is logged without stopping later events. Publish from the loop thread, so
 * that the order of events is the order in which ZooKeeper results were handled.
 */
final class MemberEvents {

  private static final Logger log = LoggerFactory.getLogger(MemberEvents.class);
  private static final String THREAD_PREFIX = "handoff-zk-events-";

  private final String memberId;
  private final ExecutorService executor;

  // Confined to the events thread.
  private final List<Consumer<MemberEvent>> listeners = new ArrayList<>();

  MemberEvents(String memberId) {
    this.memberId = memberId;
    this.executor =
        Executors.newSingleThreadExecutor(
            MembershipLoop.daemon(THREAD_PREFIX + MembershipLoop.threadSuffix(memberId)));
  }

  /**
   * Adds {@code listener} and first hands it {@code MemberUp} for each of {@code current}. Call on
   * the loop thread with the members as the loop sees them, so that no event is lost or repeated
   * between this replay and the live events published after it.
   */
  void subscribe(Consumer<MemberEvent> listener, List<Member> current) {
    deliver(
        () -> {
          listeners.add(listener);
          for (var m : current) {
            call(listener, new MemberUp(m));
          }
        });
  }

  /** Removes {@code listener}: events published after this call do not reach it. */
  void unsubscribe(Consumer<MemberEvent> listener) {
    deliver(() -> listeners.remove(listener));
  }

  void publish(MemberEvent event) {
    publish(List.of(event));
  }

  void publish(List<MemberEvent> batch) {
    if (batch.isEmpty()) {
      return;
    }
    if (log.isDebugEnabled()) {
      batch.forEach(ev -> log.debug("{}: {}", memberId, ev));
    }
    deliver(
        () -> {
          for (var ev : batch) {
            for (var l : List.copyOf(listeners)) {
              call(l, ev);
            }
          }
        });
  }

  /** Delivers the events already queued, then stops the thread (waiting unless called on it). */
  void close() {
    executor.shutdown();
    MembershipLoop.awaitUnlessOn(executor, THREAD_PREFIX);
  }

  private void deliver(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException closed) {
      // after close() no more events are delivered
    }
  }

  private void call(Consumer<MemberEvent> listener, MemberEvent event) {
    try {
      listener.accept(event);
    } catch (RuntimeException e) {
      log.warn("Listener of member '{}' failed on {}", memberId, event, e);
    }
  }
}
