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

  enum Phase {
    NEW,
    STARTING,
    READY,
    LEAVING,
    LEFT,
    CLOSED
  }

  private final DeltaLog deltaLog;
  private final Membership membership;
  private final OwnershipProtocol protocol;
  private final PendingOperations pending;
  private final Listeners<?> listeners;
  private final Duration sweepInterval;
  private final ScheduledExecutorService timer;

  private volatile Phase phase = Phase.NEW;
  private AutoCloseable membershipSubscription;
  private ScheduledFuture<?> sweeper;
  private CompletableFuture<Void> started;
  private CompletableFuture<Void> left;

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

  Phase phase() {
    return phase;
  }

  synchronized CompletableFuture<Void> start() {
    if (started != null) {
      return started;
    }
    if (phase != Phase.NEW) {
      return CompletableFuture.failedFuture(new HandoffException.Left("closed before start"));
    }
    phase = Phase.STARTING;
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
                            listeners.memberEvent(event);
                          });
                  log.info("{} joined the cluster", me.writerId());
                  return me;
                });
    CompletableFuture<Void> replayed = deltaLog.start(protocol::onEntry);
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
      if (phase == Phase.STARTING) {
        phase = Phase.READY;
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
    if (phase == Phase.READY) {
      protocol.sweep();
    }
  }

  synchronized CompletableFuture<Void> leave() {
    if (left != null) {
      return left;
    }
    if (phase == Phase.NEW || phase == Phase.CLOSED) {
      left = CompletableFuture.completedFuture(null);
      return left;
    }
    phase = Phase.LEAVING;
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
                    if (phase == Phase.LEAVING) {
                      phase = Phase.LEFT;
                    }
                  }
                  log.info("{} left the cluster", describeSelf());
                });
    return left;
  }

  void close() {
    synchronized (this) {
      if (phase == Phase.CLOSED) {
        return;
      }
      phase = Phase.CLOSED;
    }
    if (sweeper != null) {
      sweeper.cancel(false);
    }
    closeQuietly(membershipSubscription);
    closeQuietly(deltaLog);
    closeQuietly(membership);
    protocol.loop().shutdown(protocol::failWaiters);
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
