package dev.handoff.zk;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread ({@code handoff-zk-loop-<memberId>}) on which a member handles every ZooKeeper
 * result and timer, and the member's lifecycle (latent, started, closed). State that this package
 * calls "confined to the loop thread" is only touched from tasks run here; tasks that would run
 * after {@link #close()} are dropped, so late ZooKeeper callbacks report nothing. The thread runs
 * at maximum priority (where the JVM maps priorities to the OS): its work is small, and a node busy
 * with its own work must still see its membership change promptly.
 */
final class MembershipLoop {

  private static final Logger log = LoggerFactory.getLogger(MembershipLoop.class);
  private static final String THREAD_PREFIX = "handoff-zk-loop-";

  private enum Lifecycle {
    LATENT,
    STARTED,
    CLOSED
  }

  private final String memberId;
  private final ScheduledThreadPoolExecutor executor;
  private final AtomicReference<Lifecycle> lifecycle = new AtomicReference<>(Lifecycle.LATENT);

  MembershipLoop(String memberId) {
    this.memberId = memberId;
    this.executor =
        new ScheduledThreadPoolExecutor(
            1, daemon(THREAD_PREFIX + threadSuffix(memberId), Thread.MAX_PRIORITY));
    // Timers (start timeout, retries) are dropped on close instead of holding the thread.
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  /** Latent to started; true only for the call that did it. */
  boolean start() {
    return lifecycle.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED);
  }

  /** To closed; true only for the first call. Queued tasks are dropped from now on. */
  boolean close() {
    return lifecycle.getAndSet(Lifecycle.CLOSED) != Lifecycle.CLOSED;
  }

  boolean closed() {
    return lifecycle.get() == Lifecycle.CLOSED;
  }

  /** Runs {@code task} on the loop thread unless closed by then; false if it was not queued. */
  boolean run(Runnable task) {
    try {
      executor.execute(() -> runUnlessClosed(task));
      return true;
    } catch (RejectedExecutionException closed) {
      return false;
    }
  }

  /**
   * Runs {@code task} on the loop thread; if the loop is closed before the task can run, {@code
   * pending} (which the task would have completed) fails instead of being left incomplete.
   */
  void runOrFail(CompletableFuture<?> pending, Runnable task) {
    try {
      executor.execute(
          () -> {
            if (closed()) {
              pending.completeExceptionally(closedError());
            } else {
              runUnlessClosed(task);
            }
          });
    } catch (RejectedExecutionException closed) {
      pending.completeExceptionally(closedError());
    }
  }

  /** This loop as an executor for Curator's background callbacks. */
  Executor executor() {
    return this::run;
  }

  /** Runs {@code task} on the loop thread after {@code delayMillis}, unless closed by then. */
  ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    try {
      return executor.schedule(() -> runUnlessClosed(task), delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      return null;
    }
  }

  /**
   * Runs a last task after {@link #close()} (to fail what is pending), then stops the thread and
   * waits a few seconds for it unless called from a loop thread.
   */
  void shutdown(Runnable last) {
    try {
      executor.execute(last);
    } catch (RejectedExecutionException alreadyStopped) {
      // nothing pending can be left then
    }
    executor.shutdown();
    awaitUnlessOn(executor, THREAD_PREFIX);
  }

  /** The error of every operation attempted after {@link #close()}. */
  IllegalStateException closedError() {
    return new IllegalStateException("ZkMembership of '" + memberId + "' is closed");
  }

  private void runUnlessClosed(Runnable task) {
    if (closed()) {
      return; // late ZooKeeper callbacks after close(): nothing to report any more
    }
    try {
      task.run();
    } catch (RuntimeException e) {
      log.error("Membership loop of '{}' failed", memberId, e);
    }
  }

  /** A member id made safe for a thread name. */
  static String threadSuffix(String memberId) {
    return memberId.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  static ThreadFactory daemon(String name) {
    return daemon(name, Thread.NORM_PRIORITY);
  }

  /** Daemon threads named {@code name}, at {@code priority}. */
  static ThreadFactory daemon(String name, int priority) {
    return r -> {
      var t = new Thread(r, name);
      t.setDaemon(true);
      t.setPriority(priority);
      return t;
    };
  }

  /** Daemon threads named {@code prefix} and a number, at {@code priority}. */
  static ThreadFactory numberedDaemons(String prefix, int priority) {
    var ids = new AtomicInteger();
    return r -> daemon(prefix + ids.incrementAndGet(), priority).newThread(r);
  }

  /**
   * Waits for a stopped executor, except from such a thread (of any member): it would wait on
   * itself.
   */
  static void awaitUnlessOn(ExecutorService executor, String threadPrefix) {
    if (Thread.currentThread().getName().startsWith(threadPrefix)) {
      return;
    }
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
