package dev.handoff.spi;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberState;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Who is in the cluster. One instance is one member incarnation.
 *
 * <p>Lifecycle: {@link #start()} registers this incarnation (state {@link MemberState#STARTING})
 * and completes once it is registered and the current member list is known; {@link #leave()}
 * announces {@link MemberState#LEAVING} and removes the registration so peers see a prompt {@code
 * MemberDown(LEFT)}; {@link #close()} releases resources. As for every Handoff component, {@link
 * #start()} is idempotent (every call returns the same future; after {@link #close()} a failed one)
 * and {@link #close()} is idempotent and never throws.
 *
 * <p>Listeners get every event in order, on one event thread owned by the implementation; a slow
 * listener delays later events but never the membership machinery itself.
 *
 * <p><b>Twins.</b> If two live processes register with one member id (a replaced pod that still
 * runs, or a member id that is not unique), the newest one wins: the process that registered last
 * (a re-registration after a loss keeps the rank of its process, so a zombie that comes back never
 * outranks its replacement). The older gets {@code ConnectionChanged(SUPERSEDED, self)}, stops
 * being {@link #writable()} for good and removes its registration, so peers see it go down; the
 * newer logs a warning naming both.
 */
public interface Membership extends AutoCloseable {

  /**
   * Registers this incarnation. Completes exceptionally if the service cannot be reached in time.
   */
  CompletableFuture<Member> start();

  /**
   * This incarnation as currently registered. Its {@link Member#epoch()} changes only after a
   * {@code LOST} followed by re-registration.
   *
   * @throws IllegalStateException before {@link #start()} completed
   */
  Member self();

  /** Announces a new state for this incarnation; completes when the service has stored it. */
  CompletableFuture<Void> announce(MemberState state);

  /** The live members as last seen, this node included, ordered by member id. */
  List<Member> members();

  /**
   * True only while this incarnation is certainly still a member, so that it may <em>issue</em> a
   * write now. Checked right before each write; it is a necessary condition, not proof of
   * ownership: whether a write counts is decided by reading the log back.
   *
   * <p>All of these must hold:
   *
   * <ul>
   *   <li>this incarnation is registered ({@link #start()} completed, no {@link #leave()} or {@link
   *       #close()} since);
   *   <li>its session is not {@code LOST} (it is writable again only after {@code REREGISTERED},
   *       under a new epoch);
   *   <li>it has not been {@linkplain MemberEvent.ConnectionState#SUPERSEDED superseded} by a newer
   *       incarnation of the same member id (final);
   *   <li>its session is certainly still alive on the server, <em>as a lease</em>: less than
   *       (session timeout &minus; a margin) has passed, on the monotonic clock ({@link
   *       System#nanoTime()}), since the <em>send</em> time of the last request the server
   *       answered. Time spent paused (GC, CPU starvation, {@code SIGSTOP}) counts, so after a
   *       pause longer than the lease this is false from the first instant the process runs again,
   *       before any callback reports anything. Implementations without server sessions (in memory)
   *       have no lease.
   * </ul>
   *
   * <p>The lease can lapse and be renewed without any event: a slow network or a long pause that
   * the session survives makes this false for a while, and the next answered request makes it true
   * again. Never cache the result. Any thread; never blocks.
   */
  boolean writable();

  /**
   * Adds a listener. It first receives a {@code MemberUp} for every member already known, then
   * every later event. Returns a handle whose {@code close()} removes the listener.
   */
  AutoCloseable subscribe(Consumer<MemberEvent> listener);

  /** Graceful leave: announce LEAVING, then remove the registration. Idempotent. */
  CompletableFuture<Void> leave();

  /** Releases everything; without {@link #leave()} peers see the member expire. Idempotent. */
  @Override
  void close();
}
