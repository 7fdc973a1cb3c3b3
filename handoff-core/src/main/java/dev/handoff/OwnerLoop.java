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
  // Bytes of the sized items in the inbox (log records), and whether the reader waits for room.
  private final java.util.concurrent.atomic.AtomicLong inboxBytes =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean readerWaiting;

  /** Writes held (queued or in flight) below which the latency bound never refuses a stash. */
  static final int LATENCY_BOUND_FLOOR = 1024;

  /** Bytes of log records the inbox holds before the reader waits for the owner thread. */
  static final int INBOX_BYTES = 8 << 20;

  private volatile Thread ownerThread;
  // Owner-thread state: each busy session's queue of operations.
  private final Map<String, SessionQueue> sessions = new HashMap<>();
  private volatile long writeBytes;
  private volatile long coalescedWrites;
  // How long writes take from being queued to completing, a moving average, and how long the
  // writes queued or running now have waited on average (owner thread writes, anyone reads).
  private volatile double writeLatencyNanos;
  // Moving average of the interval between write completions (each sample at most that write's
  // own latency, so that an idle gap does not count), and when the last one completed.
  private volatile double completionIntervalNanos;
  private long lastCompletionNanos;
  // Writes held (queued or running): owner thread writes, anyone reads.
  private volatile long heldWrites;
  private volatile long ownerLagNanos;
  // Sessions whose last queued operation is a write not started yet: a stash of one of them
  // coalesces. Written by the owner thread, read by callers to refuse the others cheaply.
  private final java.util.Set<String> waitingWrites =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

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
    deliver(item, 0);
  }

  /**
   * Hands an item of about {@code bytes} to the owner thread's inbox. The log's reader calls this:
   * once the inbox holds {@link #INBOX_BYTES} it waits until the owner thread has taken half of it,
   * so a reader faster than the owner thread slows down instead of filling the heap. Never call it
   * on the owner thread with a non-zero size.
   */
  void deliver(Object item, int bytes) {
    if (bytes > 0) {
      waitForRoom(bytes);
    }
    inbox.add(bytes > 0 ? new Sized(item, bytes) : item);
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
      if (item instanceof Sized s) {
        handler.accept(s.item());
        if (inboxBytes.addAndGet(-s.bytes()) <= INBOX_BYTES / 2 && readerWaiting) {
          synchronized (inboxBytes) {
            inboxBytes.notifyAll();
          }
        }
      } else {
        handler.accept(item);
      }
    }
  }

  private void waitForRoom(int bytes) {
    if (inboxBytes.addAndGet(bytes) <= INBOX_BYTES || bytes >= INBOX_BYTES) {
      return;
    }
    synchronized (inboxBytes) {
      readerWaiting = true;
      try {
        // The bytes just added count too: the owner thread wakes us once half is taken.
        while (inboxBytes.get() > INBOX_BYTES / 2 + bytes && !thread.isShutdown()) {
          inboxBytes.wait(100);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        readerWaiting = false;
      }
    }
  }

  /** An inbox item and the bytes it holds. */
  private record Sized(Object item, int bytes) {}

  /** Runs {@code op} on the owner thread after every earlier operation on {@code session}. */
  <R> CompletableFuture<R> onSession(String session, Supplier<CompletableFuture<R>> op) {
    var result = new CompletableFuture<R>();
    execute(() -> enqueue(session, new Task<>(op, result)));
    if (thread.isShutdown()) {
      result.completeExceptionally(new HandoffException.Left("StateHandoff closed"));
    }
    return result;
  }

  /**
   * Queues a write of {@code value} for {@code session} behind its earlier operations, coalescing
   * with a write of the session that is queued and not started yet: the newer value replaces the
   * older one, and both callers complete when the newer value completes (only the latest state of a
   * session is worth sending). A write that would not coalesce is refused (false) if the values of
   * queued and running writes would then exceed {@code maxBytes}, or if writes have lately taken
   * longer than {@code maxLatencyNanos} from being queued to completing (more queued would only
   * wait longer). Owner thread.
   *
   * @param write sends a value and completes once it counts (or fails)
   */
  boolean enqueueWrite(
      String session,
      byte[] value,
      CompletableFuture<Void> caller,
      java.util.function.Function<byte[], CompletableFuture<Void>> write,
      long maxBytes,
      long maxLatencyNanos,
      long submittedAt) {
    // How long this stash waited for the owner thread to look at it: its backlog, now.
    ownerLagNanos = System.nanoTime() - submittedAt;
    SessionQueue q = sessions.get(session);
    if (q != null && q.waiting.peekLast() instanceof Write w) {
      writeBytes += (long) value.length - w.value.length;
      w.value = value;
      w.callers.add(caller);
      coalescedWrites++;
      return true;
    }
    if (writeBytes > 0 && (writeBytes + value.length > maxBytes || slow(maxLatencyNanos))) {
      return false;
    }
    if (q == null) {
      q = new SessionQueue();
      sessions.put(session, q);
    }
    var w = new Write(value, write, submittedAt);
    w.callers.add(caller);
    writeBytes += value.length;
    heldWrites++;
    q.waiting.add(w);
    if (!q.running) {
      runNext(session, q);
    } else {
      waitingWrites.add(session);
    }
    return true;
  }

  /**
   * True if a write of {@code bytes} that does not coalesce would be refused now (see {@link
   * #enqueueWrite}); any thread, so that callers can refuse at once. The owner thread decides.
   */
  boolean wouldRefuse(String session, int bytes, long maxBytes, long maxLatencyNanos) {
    long held = writeBytes;
    return held > 0
        && (held + bytes > maxBytes || slow(maxLatencyNanos))
        && !waitingWrites.contains(session);
  }

  /**
   * True if stashes wait more than half of {@code maxLatencyNanos} for the owner thread to look at
   * them (measured on the last one it looked at): callers should refuse more at once.
   */
  boolean ownerLagging(long maxLatencyNanos) {
    return ownerLagNanos > maxLatencyNanos / 2;
  }

  /**
   * True if a backlog of at least {@link #LATENCY_BOUND_FLOOR} writes is held and would take more
   * than {@code maxLatencyNanos} to complete at the recent rate.
   */
  private boolean slow(long maxLatencyNanos) {
    if (heldWrites < LATENCY_BOUND_FLOOR) {
      // Too few held to be a backlog: a caller with that many in flight cannot overload the node
      // however slow each write is (a loaded host, a GC pause), and refusing it would help nothing.
      return false;
    }
    // How long the backlog takes to complete at the rate writes have completed lately: a burst
    // that will be through in time (every hosted session stashed at shutdown) is taken, a backlog
    // growing past the bound under sustained overload is not.
    return backlogNanos() > maxLatencyNanos;
  }

  /** The writes held times the recent interval between completions: the backlog's expected wait. */
  long backlogNanos() {
    return (long) (heldWrites * completionIntervalNanos);
  }

  /** Bytes of the values of queued and running writes. */
  long writeBytes() {
    return writeBytes;
  }

  /** The moving average of how long writes took from being queued to completing. */
  long writeLatencyNanos() {
    return (long) writeLatencyNanos;
  }

  /** Writes whose value was replaced by a newer one of the same session before it was sent. */
  long coalescedWrites() {
    return coalescedWrites;
  }

  /** True while an operation on {@code session} is queued or running. Owner thread only. */
  boolean busy(String session) {
    return sessions.containsKey(session);
  }

  /** Sessions with queued or running operations. Owner thread only. */
  int busySessions() {
    return sessions.size();
  }

  private <R> void enqueue(String session, Task<R> task) {
    SessionQueue q = sessions.computeIfAbsent(session, k -> new SessionQueue());
    q.waiting.add(task);
    waitingWrites.remove(session); // a later stash queues behind this task, no coalescing
    if (!q.running) {
      runNext(session, q);
    }
  }

  private void runNext(String session, SessionQueue q) {
    Op op = q.waiting.poll();
    if (op instanceof Write && q.waiting.isEmpty()) {
      waitingWrites.remove(session);
    }
    if (op == null) {
      q.running = false;
      sessions.remove(session);
      return;
    }
    q.running = true;
    op.run()
        .whenComplete(
            (r, e) ->
                run(
                    () -> {
                      if (op instanceof Write w) {
                        writeBytes -= w.value.length;
                        heldWrites--;
                        // Every write counts, failed ones too (they leave the queue as well).
                        long took = System.nanoTime() - w.queuedAt;
                        writeLatencyNanos += (took - writeLatencyNanos) / 16;
                        long now = System.nanoTime();
                        long gap = lastCompletionNanos == 0 ? took : now - lastCompletionNanos;
                        lastCompletionNanos = now;
                        completionIntervalNanos +=
                            (Math.min(gap, took) - completionIntervalNanos) / 64;
                      }
                      runNext(session, q);
                    }));
  }

  /** The operations of one session: run one at a time, in order. */
  private static final class SessionQueue {
    final java.util.ArrayDeque<Op> waiting = new java.util.ArrayDeque<>();
    boolean running;
  }

  private interface Op {
    /** Starts the operation; the future completes when the next one may start. */
    CompletableFuture<?> run();
  }

  private record Task<R>(Supplier<CompletableFuture<R>> body, CompletableFuture<R> result)
      implements Op {
    @Override
    public CompletableFuture<?> run() {
      CompletableFuture<R> f = runNow(body);
      f.whenComplete(
          (r, e) -> {
            if (e != null) {
              result.completeExceptionally(
                  e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                      ? e.getCause()
                      : e);
            } else {
              result.complete(r);
            }
          });
      return f.handle((r, e) -> null);
    }
  }

  /** A write not started yet; later writes of the session coalesce into it. */
  private static final class Write implements Op {
    byte[] value;
    final long queuedAt; // when the caller stashed it: waits for the owner thread count too
    final java.util.function.Function<byte[], CompletableFuture<Void>> write;
    final java.util.List<CompletableFuture<Void>> callers = new java.util.ArrayList<>(1);

    Write(
        byte[] value,
        java.util.function.Function<byte[], CompletableFuture<Void>> write,
        long queuedAt) {
      this.value = value;
      this.write = write;
      this.queuedAt = queuedAt;
    }

    @Override
    public CompletableFuture<?> run() {
      CompletableFuture<Void> f = runNow(() -> write.apply(value));
      f.whenComplete(
          (r, e) -> {
            for (var c : callers) {
              if (e != null) {
                c.completeExceptionally(
                    e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause()
                        : e);
              } else {
                c.complete(null);
              }
            }
          });
      return f.handle((r, e) -> null);
    }
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
