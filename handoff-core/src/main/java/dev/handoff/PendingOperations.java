package dev.handoff;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The operations of a node that have not completed yet: {@code leave()} waits for them, and each
 * gets the node's operation timeout and its errors in the form the API promises.
 */
final class PendingOperations {

  private final Duration timeout;
  private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();

  PendingOperations(Duration timeout) {
    this.timeout = timeout;
  }

  /** Registers {@code f} as pending until it completes; returns it. */
  <R> CompletableFuture<R> track(CompletableFuture<R> f) {
    pending.add(f);
    f.whenComplete((r, e) -> pending.remove(f));
    return f;
  }

  /** The operations pending now. A copy. */
  List<CompletableFuture<?>> snapshot() {
    return new ArrayList<>(pending);
  }

  int size() {
    return pending.size();
  }

  /**
   * {@code f} with the operation timeout: a timeout becomes {@link HandoffException.Timeout}, a
   * {@link HandoffException} passes as it is, anything else is wrapped in one naming the operation.
   */
  <R> CompletableFuture<R> timed(String op, String key, CompletableFuture<R> f) {
    return f.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (r, e) -> {
              if (e == null) {
                return r;
              }
              Throwable cause =
                  e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (cause instanceof TimeoutException) {
                throw new HandoffException.Timeout(
                    op
                        + " of session '"
                        + key
                        + "' did not complete within "
                        + timeout
                        + "; its outcome is unknown");
              }
              if (cause instanceof HandoffException he) {
                throw he;
              }
              throw new HandoffException(op + " of session '" + key + "' failed: " + cause, cause);
            });
  }

  /** Completes when both complete; fails as soon as either fails, with its error. */
  static CompletableFuture<Void> both(CompletableFuture<?> a, CompletableFuture<?> b) {
    var both = new CompletableFuture<Void>();
    a.whenComplete(
        (v, e) -> {
          if (e != null) {
            both.completeExceptionally(e);
          }
        });
    b.whenComplete(
        (v, e) -> {
          if (e != null) {
            both.completeExceptionally(e);
          }
        });
    CompletableFuture.allOf(a, b).thenRun(() -> both.complete(null));
    return both;
  }
}
