package dev.handoff.zk;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link Lease} renewed: every quarter of the negotiated session timeout it sends a
 * {@code sync} on the current session and, when the server answers, tells the lease when that
 * request was sent. The ZooKeeper client's own pings would do for the session, but their answers
 * are invisible to us; a {@code sync} is as cheap, and the leader checks the session of every one
 * (a follower forwards it), which the lease's restart rule needs.
 *
 * <p>Runs on its own daemon thread ({@code handoff-zk-lease-<memberId>}, maximum priority) so that
 * neither a busy membership loop nor listeners can delay it; answers arrive on the ZooKeeper
 * client's event thread, where they only update the lease and hand a notice to the loop.
 */
final class SessionHeartbeat {

  private static final Logger log = LoggerFactory.getLogger(SessionHeartbeat.class);
  private static final String THREAD_PREFIX = "handoff-zk-lease-";
  private static final long MIN_INTERVAL_MILLIS = 50;

  private final CuratorFramework client;
  private final ClientHandles handles;
  private final Lease lease;
  private final Duration requestedTimeout;
  private final Runnable afterAnswer;
  private final LongSupplier nanoTime;
  private final ScheduledThreadPoolExecutor timer;

  /**
   * @param afterAnswer run (on the client's event thread; keep it short) after each answer that
   *     reached the lease
   */
  SessionHeartbeat(
      String memberId,
      CuratorFramework client,
      ClientHandles handles,
      Lease lease,
      Duration requestedTimeout,
      Runnable afterAnswer,
      LongSupplier nanoTime) {
    this.client = client;
    this.handles = handles;
    this.lease = lease;
    this.requestedTimeout = requestedTimeout;
    this.afterAnswer = afterAnswer;
    this.nanoTime = nanoTime;
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            MembershipLoop.daemon(
                THREAD_PREFIX + MembershipLoop.threadSuffix(memberId), Thread.MAX_PRIORITY));
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  /** Starts beating (call after the Curator client was started). */
  void start() {
    schedule(0);
  }

  /** Stops beating; answers still to come are ignored by the closed membership. */
  void close() {
    timer.shutdownNow();
  }

  /**
   * The server answered a request of session {@code sessionId} sent at {@code sentNanos}: renews
   * the lease (binding it to the session first if it is the client's current one). Any thread.
   */
  void answered(long sessionId, long sentNanos) {
    var zk = currentHandle();
    if (zk != null && zk.getSessionId() == sessionId && zk.getSessionTimeout() > 0) {
      lease.onSession(
          sessionId, Duration.ofMillis(zk.getSessionTimeout()), handles.createdNanos(zk));
    }
    lease.answered(sessionId, sentNanos, nanoTime.getAsLong());
  }

  private void beat() {
    long interval = requestedTimeout.toMillis() / 4;
    try {
      var zk = currentHandle();
      if (zk != null && zk.getState().isConnected()) {
        long sessionId = zk.getSessionId();
        int timeout = zk.getSessionTimeout();
        if (sessionId != 0 && timeout > 0) {
          interval = timeout / 4;
          lease.onSession(sessionId, Duration.ofMillis(timeout), handles.createdNanos(zk));
          long sent = nanoTime.getAsLong();
          zk.sync(
              "/",
              (rc, path, ctx) -> {
                if (rc == Code.OK.intValue()) {
                  lease.answered(sessionId, sent, nanoTime.getAsLong());
                  afterAnswer.run();
                }
              },
              null);
        }
      }
    } catch (RuntimeException e) {
      log.debug("Session heartbeat failed; trying again", e);
    } finally {
      schedule(Math.max(MIN_INTERVAL_MILLIS, interval));
    }
  }

  private ZooKeeper currentHandle() {
    try {
      return client.getZookeeperClient().getZooKeeper();
    } catch (Exception notStartedOrClosed) {
      return null;
    }
  }

  private void schedule(long delayMillis) {
    try {
      timer.schedule(this::beat, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // stopped
    }
  }
}
