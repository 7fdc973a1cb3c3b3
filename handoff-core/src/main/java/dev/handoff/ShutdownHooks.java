package dev.handoff;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What {@link StateHandoff#leaveOnShutdown} runs when the JVM is asked to stop. */
final class ShutdownHooks {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private ShutdownHooks() {}

  /** Installs {@code work} as a JVM shutdown hook; returns its thread. */
  static Thread install(Runnable work) {
    Thread hook = new Thread(work, "handoff-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  /** The application stashes its sessions, then the node leaves and closes, within the budget. */
  static void stashAndLeave(StateHandoff<?> node, Duration budget, Runnable stashAll) {
    long deadline = System.nanoTime() + budget.toNanos();
    try {
      stashAll.run();
      node.leave().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      log.error(
          "{} could not leave within {}: some stashes may be unacknowledged", name(node), budget);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | RuntimeException e) {
      log.error("{} failed to leave cleanly", name(node), e);
    } finally {
      node.close();
    }
  }

  /**
   * Drains to running peers (three quarters of the budget at most) if there are any, stashes what
   * is still owned here for a successor that adopts it, then leaves and closes.
   */
  static <T> void moveAndLeave(
      StateHandoff<T> node, Handovers<T> handovers, Duration budget, SessionMover<T> mover) {
    long deadline = System.nanoTime() + budget.toNanos();
    try {
      var stopped = new ConcurrentHashMap<String, T>();
      SessionMover<T> keeping =
          new SessionMover<>() {
            @Override
            public T stop(String session) {
              return mover.stop(session);
            }

            @Override
            public void kept(String session, T state) {
              stopped.put(session, state); // stashed below, not resumed
            }
          };
      if (!handovers.candidates().isEmpty() && node.isReady()) {
        Drain d =
            node.drain(
                HandoverTarget.newestVersionEvenly(), budget.multipliedBy(3).dividedBy(4), keeping);
        d.done().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      var stashes = new ArrayList<CompletableFuture<Void>>();
      for (String key : node.isReady() ? node.ownedKeys() : Set.<String>of()) {
        T state = stopped.containsKey(key) ? stopped.get(key) : mover.stop(key);
        stashes.add(node.stash(key, state));
      }
      log.info("{} stashed {} sessions it still owns before leaving", name(node), stashes.size());
      node.leave().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      log.error("{} could not move its sessions and leave within {}", name(node), budget);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | RuntimeException e) {
      log.error("{} failed to leave cleanly", name(node), e);
    } finally {
      node.close();
    }
  }

  private static String name(StateHandoff<?> node) {
    try {
      return node.self().writerId();
    } catch (HandoffException.NotReady e) {
      return "handoff node";
    }
  }
}
