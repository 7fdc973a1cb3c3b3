package dev.handoff.testkit.cluster;

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
}
