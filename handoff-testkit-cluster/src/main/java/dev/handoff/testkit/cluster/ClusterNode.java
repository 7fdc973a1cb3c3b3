package dev.handoff.testkit.cluster;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One Handoff node of a {@link HandoffCluster}, in this JVM or in its own. States are strings
 * (UTF-8). The calls mirror {@link dev.handoff.StateHandoff}; for a node in another JVM they travel
 * over its standard input and output.
 */
public interface ClusterNode {

  /** The member id (stable across restarts of "the same" node). */
  String id();

  /** The current incarnation's writer id, {@code memberId#epoch}. */
  String writerId();

  /** True while the node runs (not stopped or killed). */
  boolean isAlive();

  /** True if the node runs in its own JVM. */
  boolean isProcess();

  CompletableFuture<Void> stash(String key, String state);

  CompletableFuture<Optional<String>> pickup(String key);

  CompletableFuture<Void> end(String key);

  /** The state as this node's replica holds it now. */
  Optional<String> peek(String key);

  /** The state after every acknowledged write is applied here. */
  CompletableFuture<Optional<String>> read(String key);

  /** The owner writer id of a session, as this node knows it. */
  Optional<String> owner(String key);

  Set<String> keys();

  Set<String> ownedKeys();

  /** Member events this node has seen, in order. */
  List<ObservedEvent> events();

  /**
   * Starts a {@link dev.handoff.StateHandoff#drain drain} of every session this node owns: to the
   * member {@code toMember} while it is RUNNING, or (null) evenly over the RUNNING members of the
   * newest version. Each session is stopped after {@code stopDelay} (to stretch a drain out) and
   * handed over with its current state plus {@code "+moved"}; what no receiver takes is reported as
   * a {@code kept} {@link ObservedMove}. Completes when the drain is over.
   */
  CompletableFuture<dev.handoff.Drain.Result> drain(
      String toMember, Duration budget, Duration stopDelay);

  /**
   * {@link dev.handoff.StateHandoff#adopt Adopts} the sessions of member {@code memberId}'s earlier
   * or gone incarnations; each one is reported as an {@code adopted} {@link ObservedMove}.
   */
  CompletableFuture<dev.handoff.Adoption> adopt(String memberId, Duration budget);

  /**
   * Whether this node takes sessions handed to it ({@link
   * dev.handoff.StateHandoff#acceptHandovers}).
   */
  void acceptHandovers(boolean accept);

  /**
   * Sessions this node stopped for a transfer, took over (handed over, adopted) or kept after a
   * drain, in order.
   */
  List<ObservedMove> moves();
}
