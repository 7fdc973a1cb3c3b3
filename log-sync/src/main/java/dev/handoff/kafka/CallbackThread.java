package dev.handoff.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The one thread on which a {@link KafkaDeltaLog} completes the futures it returns. Never a Kafka
 * client thread: a dependent stage that blocks briefly must not stall the producer or the admin
 * client. Once shut down, futures are completed on the calling thread instead.
 */
final class CallbackThread {

  private final ExecutorService executor;

  CallbackThread(String topic) {
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "handoff-log-callbacks-" + topic);
              t.setDaemon(true);
              return t;
            });
  }

  <T> void complete(CompletableFuture<T> f, T value) {
    try {
      executor.execute(() -> f.complete(value));
    } catch (RejectedExecutionException e) {
      f.complete(value);
    }
  }

  void fail(CompletableFuture<?> f, Throwable error) {
    try {
      executor.execute(() -> f.completeExceptionally(error));
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(error);
    }
  }

  /** Completes {@code f} normally if {@code error} is null, else with the unwrapped error. */
  void settle(CompletableFuture<Void> f, Throwable error) {
    if (error == null) {
      complete(f, null);
    } else {
      fail(f, error instanceof CompletionException ? error.getCause() : error);
    }
  }

  /** Runs what is queued (up to 5 s), then completes later futures on the caller. */
  void shutdown() {
    executor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
