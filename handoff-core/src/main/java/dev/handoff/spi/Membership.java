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

  /** True while this node may write: registered and not in {@code LOST}. */
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
