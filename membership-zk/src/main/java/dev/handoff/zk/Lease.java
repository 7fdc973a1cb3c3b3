package dev.handoff.zk;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How long this node's ZooKeeper session is certainly still alive on the server, as far as this
 * node can prove it: the lease behind {@link ZkMembership#writable()}. Pure arithmetic on the
 * monotonic clock; the heartbeat ({@link SessionHeartbeat}) feeds it.
 *
 * <p><b>Why it holds.</b> Let T be the negotiated session timeout and {@code m} the {@linkplain
 * #margin margin}. The leader (or a standalone server) expires a session T after it last heard of
 * it. A server that receives a request of the session moves that deadline to at least receipt + T;
 * receipt comes after the send, so the session lives until at least <em>send + T</em>, and the
 * lease is {@code send + (T - m)}. Send times are read on the monotonic clock <em>before</em> the
 * request is handed to the client, so a pause between reading and sending only shortens the lease;
 * time spent paused counts, so after a pause longer than the lease it has lapsed the moment the
 * process runs again, whatever callbacks are still to come.
 *
 * <p>A follower tells the leader about the sessions it heard from only at its next ping, up to half
 * a tick later (a tick is at most T/2, so at most T/4), and the leader may expire the session in
 * between. Hence two rules, both sound because {@code m > T/4} plus that report's network delay:
 *
 * <ul>
 *   <li><b>Renewal:</b> an answered request renews the lease only if the lease still held when the
 *       request was sent. The session was then certain to live until {@code previous send + T},
 *       which is later than the follower's report of the new request, so the report arrives in
 *       time.
 *   <li><b>Restart:</b> after the lease lapsed, one answer proves nothing about the deadline. An
 *       answer to a {@code sync} sent at least {@code m} after an earlier answer arrived proves the
 *       session outlived the report of that earlier request (the leader checks the session of every
 *       {@code sync}), so the lease restarts from the earlier request's send time.
 * </ul>
 *
 * A new session needs no restart: the leader created it after its connect request, which was sent
 * after the client handle was made, so the lease of a new session runs from the handle's creation.
 *
 * <p>Thread-safe: updates are synchronized; {@link #holds} and {@link #remaining}, called before
 * every write, read one volatile snapshot without locking.
 */
final class Lease {

  private static final long ONE_SECOND = Duration.ofSeconds(1).toNanos();

  /** What readers see: the session, whether it has a lease, and the lease's start and length. */
  private record Snapshot(long sessionId, boolean granted, long sentNanos, long lengthNanos) {}

  private final LongSupplier nanoTime;
  private volatile Snapshot snapshot = new Snapshot(0, false, 0, 0);

  // The session the lease is for, its length and margin (from its negotiated timeout).
  private long sessionId;
  private long lengthNanos;
  private long marginNanos;
  private boolean granted; // whether sentNanos is a lease start at all
  private long sentNanos; // send time of the last request that renewed the lease
  private boolean candidate; // after a lapse: an answered request that may restart the lease
  private long candidateSentNanos;
  private long candidateAnsweredNanos;

  /**
   * @param nanoTime the monotonic clock, {@link System#nanoTime()} outside tests
   */
  Lease(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /**
   * The margin kept below the session timeout {@code t}: {@code max(t/3, 1 s)}, at most {@code
   * t/2}. It must exceed {@code t/4} (the longest a follower waits before it reports a session to
   * the leader) by more than the delay of that report; it leaves {@code t/12} for it from 3 s up
   * (1.25 s at the default 15 s), and a larger share of shorter timeouts. The rest covers the time
   * between a {@code writable()} check and the write it allows, and clock-rate differences between
   * hosts (NTP keeps them far below 0.1%). Heartbeats every {@code t/4} keep a healthy node at
   * least {@code t/4} of lease ahead, so one late heartbeat never makes it lapse.
   */
  static Duration margin(Duration sessionTimeout) {
    long t = sessionTimeout.toNanos();
    return Duration.ofNanos(Math.min(Math.max(t / 3, ONE_SECOND), t / 2));
  }

  /** The lease one answer grants: session timeout minus {@link #margin}. */
  static Duration length(Duration sessionTimeout) {
    return sessionTimeout.minus(margin(sessionTimeout));
  }

  /**
   * The client is on session {@code sessionId} (negotiated timeout {@code sessionTimeout}), made by
   * a client handle created at {@code handleCreatedNanos} (or null if that time is not known). A
   * session other than the current one replaces it; the lease of a new session runs from the
   * handle's creation.
   */
  synchronized void onSession(long sessionId, Duration sessionTimeout, Long handleCreatedNanos) {
    if (this.sessionId == sessionId && lengthNanos > 0) {
      return;
    }
    this.sessionId = sessionId;
    this.lengthNanos = length(sessionTimeout).toNanos();
    this.marginNanos = margin(sessionTimeout).toNanos();
    this.candidate = false;
    this.granted = handleCreatedNanos != null;
    this.sentNanos = granted ? handleCreatedNanos : 0;
    publish();
  }

  /**
   * The server answered a request of {@code sessionId} that was sent at {@code sentNanos}; the
   * answer arrived at {@code answeredNanos}. Requests of any other session are ignored.
   */
  synchronized void answered(long sessionId, long sentNanos, long answeredNanos) {
    if (sessionId != this.sessionId || lengthNanos == 0) {
      return;
    }
    if (heldAt(sentNanos)) {
      if (sentNanos - this.sentNanos > 0) {
        this.sentNanos = sentNanos;
        publish();
      }
      candidate = false;
      return;
    }
    if (candidate && sentNanos - candidateAnsweredNanos >= marginNanos) {
      granted = true;
      this.sentNanos = candidateSentNanos;
      candidate = false;
      publish();
      answered(sessionId, sentNanos, answeredNanos); // renews on top if it can
      return;
    }
    if (!candidate) {
      candidate = true;
      candidateSentNanos = sentNanos;
      candidateAnsweredNanos = answeredNanos;
    }
  }

  /** True if the lease of {@code sessionId} holds now. */
  boolean holds(long sessionId) {
    var s = snapshot;
    return s.granted()
        && s.sessionId() == sessionId
        && nanoTime.getAsLong() - s.sentNanos() < s.lengthNanos();
  }

  /** What is left of the lease now; zero if none holds. */
  Duration remaining() {
    var s = snapshot;
    if (!s.granted()) {
      return Duration.ZERO;
    }
    long left = s.lengthNanos() - (nanoTime.getAsLong() - s.sentNanos());
    return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
  }

  private boolean heldAt(long nanos) {
    return granted && nanos - sentNanos < lengthNanos;
  }

  private void publish() {
    snapshot = new Snapshot(sessionId, granted, sentNanos, lengthNanos);
  }
}
