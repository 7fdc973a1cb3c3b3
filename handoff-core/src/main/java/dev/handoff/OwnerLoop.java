package dev.handoff;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The one thread that owns a node's replicated state (the GenServer of the original sketch). The
 * log's reader and the API calls hand work to it; it never blocks on the network.
 *
 * <p>Two ways in: {@link #deliver} queues log records in a batched inbox (one owner task drains
 * everything queued so far, not one task per record), and {@link #execute}/{@link #supply} queue
 * tasks. Any record delivered before a task is queued is handled before that task runs. {@link
 * #onSession} chains operations on one session so they run one after the other, in call order.
 */
final class OwnerLoop {

  private final ExecutorService thread;
  private final Consumer<Object> handler;
  private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private volatile Thread ownerThread;
  // Owner-thread state: the tail of each session's chain of operations.
  private final Map<String, CompletableFuture<?>> sessionTails = new HashMap<>();

  /** {@code handler} gets every delivered item, on the owner thread, in delivery order. */
  OwnerLoop(String name, Consumer<Object> handler) {
    this.handler = handler;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "handoff-owner-" + name);
              t.setDaemon(true);
              ownerThread = t;
              return t;
            });
  }

  /** The owner thread as an executor, for {@code *Async} stages. */
  Executor executor() {
    return thread;
  }

  /** Queues {@code r} on the owner thread; a no-op once the loop is shut down. */
  void execute(Runnable r) {
    try {
      thread.execute(r);
    } catch (RejectedExecutionException e) {
      // shut down
    }
  }

  /** Runs {@code r} now if on the owner thread, else queues it there. */
  void run(Runnable r) {
    if (Thread.currentThread() == ownerThread) {
      r.run();
    } else {
      execute(r);
    }
  }

  /** Runs {@code task} on the owner thread; fails with {@link HandoffException.Left} if closed. */
  <R> CompletableFuture<R> supply(Supplier<R> task) {
    try {
      return CompletableFuture.supplyAsync(task, thread);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new HandoffException.Left("StateHandoff closed"));
    }
  }

  /** Hands an item to the owner thread's inbox (any thread). */
  void deliver(Object item) {
    inbox.add(item);
    // One owner task drains everything queued so far. Any item queued before a later owner task
    // is handled before that task runs: either a drain was already scheduled ahead of it, or this
    // call schedules one.
    if (!draining.getAndSet(true)) {
      try {
        thread.execute(this::drain);
      } catch (RejectedExecutionException e) {
        // closing: the record is in the log and will be replayed by the next start
      }
    }
  }

  private void drain() {
    draining.set(false);
    Object item;
    while ((item = inbox.poll()) != null) {
      handler.accept(item);
    }
  }

  /** Runs {@code op} on the owner thread after every earlier operation on {@code session}. */
  <R> CompletableFuture<R> onSession(String session, Supplier<CompletableFuture<R>> op) {
    return supply(
            () -> {
              CompletableFuture<?> tail = sessionTails.get(session);
              CompletableFuture<R> result;
              if (tail == null) {
                result = runNow(op); // nothing pending on this session: no extra hop
              } else {
                result = tail.handle((r, e) -> null).thenComposeAsync(v -> op.get(), thread);
              }
              CompletableFuture<?> newTail = result.handle((r, e) -> null);
              sessionTails.put(session, newTail);
              newTail.thenRun(() -> run(() -> sessionTails.remove(session, newTail)));
              return result;
            })
        .thenCompose(f -> f);
  }

  /** True while an operation on {@code session} is queued or running. Owner thread only. */
  boolean busy(String session) {
    return sessionTails.containsKey(session);
  }

  private static <R> CompletableFuture<R> runNow(Supplier<CompletableFuture<R>> op) {
    try {
      return op.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Runs {@code last} on the owner thread, then stops it (waiting up to 2 s for queued work). */
  void shutdown(Runnable last) {
    execute(last);
    thread.shutdown();
    try {
      if (!thread.awaitTermination(2, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** A factory of daemon threads named {@code name}. */
  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
