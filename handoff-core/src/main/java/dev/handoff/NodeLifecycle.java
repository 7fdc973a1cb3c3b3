package dev.handoff;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.Membership;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's phases and the steps between them: start (join the membership while replaying the log,
 * then announce RUNNING and begin housekeeping), leave (refuse new writes, wait for pending ones,
 * leave the membership), close. Every transition happens under this object's lock.
 */
final class NodeLifecycle {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private final DeltaLog deltaLog;
  private final Membership membership;
  private final OwnershipProtocol protocol;
  private final PendingOperations pending;
  private final Listeners<?> listeners;
  private final Duration sweepInterval;
  private final ScheduledExecutorService timer;

  private volatile NodeState phase = NodeState.NEW;
  private AutoCloseable membershipSubscription;
  private ScheduledFuture<?> sweeper;
  private CompletableFuture<Void> started;
  private CompletableFuture<Void> left;
  private volatile Throwable failure;

  NodeLifecycle(
      DeltaLog deltaLog,
      Membership membership,
      OwnershipProtocol protocol,
      PendingOperations pending,
      Listeners<?> listeners,
      Duration sweepInterval,
      String name) {
    this.deltaLog = deltaLog;
    this.membership = membership;
    this.protocol = protocol;
    this.pending = pending;
    this.listeners = listeners;
    this.sweepInterval = sweepInterval;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(OwnerLoop.daemon("handoff-timer-" + name));
  }

  NodeState phase() {
    return phase;
  }

  synchronized CompletableFuture<Void> start() {
    if (started != null) {
      return started;
    }
    if (phase != NodeState.NEW) {
      return CompletableFuture.failedFuture(new HandoffException.Left("closed before start"));
    }
    phase = NodeState.STARTING;
    long t0 = System.nanoTime();
    // Joining the membership and replaying the log do not depend on each other: run them at once,
    // so a node is ready after the longer of the two, not their sum. Either failing fails start.
    CompletableFuture<Member> joined =
        membership
            .start()
            .thenApply(
                me -> {
                  protocol.joined(me);
                  membershipSubscription =
                      membership.subscribe(
                          event -> {
                            protocol.onMemberEvent(event);
                            if (event instanceof MemberEvent.ConnectionChanged cc
                                && cc.state() == MemberEvent.ConnectionState.SUPERSEDED) {
                              fail(
                                  new HandoffException.Fenced(
                                      "a newer incarnation of member '"
                                          + cc.self().id()
                                          + "' registered: "
                                          + cc.self().writerId()
                                          + " is superseded and out of service for good; the"
                                          + " newer one takes its sessions"));
                            }
                            listeners.memberEvent(event);
                          });
                  log.info("{} joined the cluster", me.writerId());
                  return me;
                });
    CompletableFuture<Void> replayed = deltaLog.start(protocol::onEntry);
    deltaLog
        .stopped()
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                fail(
                    new HandoffException(
                        "the log reader stopped for good ("
                            + e
                            + "); this node is out of service and has left the cluster so that"
                            + " others can take its sessions",
                        e));
              }
            });
    started =
        PendingOperations.both(joined, replayed)
            .thenComposeAsync(
                v ->
                    protocol
                        .loop()
                        .supply(
                            () -> {
                              protocol.afterReplay();
                              return null;
                            }),
                protocol.loop().executor())
            .thenCompose(v -> membership.announce(MemberState.RUNNING))
            .thenRun(() -> ready(t0));
    return started;
  }

  private void ready(long t0) {
    synchronized (this) {
      if (phase == NodeState.STARTING) {
        phase = NodeState.RUNNING;
      }
    }
    log.info(
        "{} ready after {} ms: {} live sessions, {} records replayed",
        protocol.self().writerId(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        protocol.index().size(),
        protocol.appliedRecords());
    long every = sweepInterval.toMillis();
    sweeper =
        timer.scheduleWithFixedDelay(
            () -> protocol.loop().execute(this::sweep), every, every, TimeUnit.MILLISECONDS);
  }

  private void sweep() {
    if (phase == NodeState.RUNNING) {
      protocol.sweep();
    }
  }

  /**
   * Runs {@code op} as an operation of this node if the node serves it now, registered as pending
   * in the same step, so a {@code leave()} that starts after this call waits for it. Otherwise the
   * future fails with why (not ready, leaving, failed, closed). The returned future completes on
   * {@code executor} (the caller-facing one), never on the node's own threads.
   */
  <R> CompletableFuture<R> admit(
      String op,
      String key,
      java.util.concurrent.Executor executor,
      java.util.function.Supplier<CompletableFuture<R>> body) {
    var result = new CompletableFuture<R>();
    synchronized (this) {
      HandoffException refused = refusal(op, key);
      if (refused != null) {
        return CompletableFuture.failedFuture(refused);
      }
      pending.track(result);
    }
    CompletableFuture<R> f;
    try {
      f = body.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (r, e) -> {
          Runnable done =
              () -> {
                if (e != null) {
                  result.completeExceptionally(
                      e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                          ? e.getCause()
                          : e);
                } else {
                  result.complete(r);
                }
              };
          try {
            executor.execute(done);
          } catch (java.util.concurrent.RejectedExecutionException rejected) {
            done.run(); // the executor is shut down: complete here rather than never
          }
        });
    return result;
  }

  /** Why {@code op} on {@code key} is refused now, or null. Caller holds the lock. */
  private HandoffException refusal(String op, String key) {
    return switch (phase) {
      case NEW, STARTING ->
          new HandoffException.NotReady(
              "cannot " + op + " session '" + key + "': not ready (start() has not completed)");
      case LEAVING, LEFT ->
          new HandoffException.Left(
              "cannot " + op + " session '" + key + "': this node is leaving the cluster");
      case FAILED ->
          new HandoffException(
              "cannot " + op + " session '" + key + "': this node is out of service: " + failure,
              failure);
      case CLOSED -> new HandoffException.Left("cannot " + op + " session '" + key + "': closed");
      case RUNNING -> null;
    };
  }

  /** Why the node is out of service, if it is. */
  java.util.Optional<Throwable> failure() {
    return java.util.Optional.ofNullable(failure);
  }

  /**
   * Takes the node out of service for good: state FAILED, every pending operation fails with {@code
   * cause}, and the node leaves the membership so that peers take its sessions.
   */
  void fail(HandoffException cause) {
    synchronized (this) {
      if (phase == NodeState.CLOSED || phase == NodeState.FAILED || phase == NodeState.LEFT) {
        return;
      }
      failure = cause;
      phase = NodeState.FAILED;
      if (started != null && !started.isDone()) {
        started.completeExceptionally(cause);
      }
    }
    log.error("{} is out of service: {}", describeSelf(), cause.getMessage(), cause.getCause());
    protocol.loop().execute(() -> protocol.stop(cause));
    membership
        .leave()
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                log.warn("{} could not leave the membership after failing", describeSelf(), e);
              }
            });
  }

  synchronized CompletableFuture<Void> leave() {
    if (left != null) {
      return left;
    }
    if (phase == NodeState.NEW || phase == NodeState.CLOSED || phase == NodeState.FAILED) {
      left = CompletableFuture.completedFuture(null);
      return left;
    }
    phase = NodeState.LEAVING;
    var writes = pending.snapshot();
    log.info("{} leaving: waiting for {} pending writes", describeSelf(), writes.size());
    left =
        CompletableFuture.allOf(
                writes.stream()
                    .map(f -> f.handle((r, e) -> null))
                    .toArray(CompletableFuture[]::new))
            .thenCompose(v -> membership.leave())
            .thenRun(
                () -> {
                  synchronized (this) {
                    if (phase == NodeState.LEAVING) {
                      phase = NodeState.LEFT;
                    }
                  }
                  log.info("{} left the cluster", describeSelf());
                });
    return left;
  }

  void close() {
    synchronized (this) {
      if (phase == NodeState.CLOSED) {
        return;
      }
      phase = NodeState.CLOSED;
    }
    if (sweeper != null) {
      sweeper.cancel(false);
    }
    closeQuietly(membershipSubscription);
    closeQuietly(deltaLog);
    closeQuietly(membership);
    protocol.loop().shutdown(() -> protocol.stop(new HandoffException.Left("StateHandoff closed")));
    timer.shutdownNow();
    listeners.close();
  }

  String describeSelf() {
    Member me = protocol.self();
    return me == null ? "handoff node" : me.writerId();
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.warn("closing {} failed", c, e);
    }
  }
}
