package dev.handoff.testkit.cluster;

import dev.handoff.Adoption;
import dev.handoff.Drain;
import dev.handoff.HandoverTarget;
import dev.handoff.SessionMover;
import dev.handoff.StateHandoff;
import dev.handoff.WriterId;
import dev.handoff.zk.ZkMembership;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A node running in the test's own JVM. */
final class InProcessNode implements ClusterNode {
  private final String id;
  private final StateHandoff<String> handoff;
  private final ZkMembership membership;
  private final List<ObservedEvent> events = new CopyOnWriteArrayList<>();
  private final List<ObservedMove> moves = new CopyOnWriteArrayList<>();
  private volatile boolean alive = true;

  InProcessNode(NodeConfig config) {
    this.id = config.memberId();
    var built = NodeFactory.build(config);
    this.handoff = built.handoff();
    this.membership = built.membership();
    handoff.onMemberEvent(e -> events.add(ObservedEvent.of(e)));
    handoff.onHandover(
        a -> moves.add(new ObservedMove("handover", a.session(), a.state(), a.from().toString())));
  }

  InProcessNode start() {
    handoff.start().join();
    return this;
  }

  /** The node's StateHandoff, for tests that need the full API. */
  StateHandoff<String> handoff() {
    return handoff;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String writerId() {
    return handoff.self().writerId();
  }

  @Override
  public boolean isAlive() {
    return alive;
  }

  @Override
  public boolean isProcess() {
    return false;
  }

  @Override
  public CompletableFuture<Void> stash(String key, String state) {
    return handoff.stash(key, state);
  }

  @Override
  public CompletableFuture<Optional<String>> pickup(String key) {
    return handoff.pickup(key);
  }

  @Override
  public CompletableFuture<Void> end(String key) {
    return handoff.end(key);
  }

  @Override
  public Optional<String> peek(String key) {
    return handoff.peek(key);
  }

  @Override
  public CompletableFuture<Optional<String>> read(String key) {
    return handoff.read(key);
  }

  @Override
  public Optional<String> owner(String key) {
    return handoff.owner(key).map(WriterId::toString);
  }

  @Override
  public Set<String> keys() {
    return handoff.keys();
  }

  @Override
  public Set<String> ownedKeys() {
    return handoff.ownedKeys();
  }

  @Override
  public List<ObservedEvent> events() {
    return List.copyOf(events);
  }

  @Override
  public CompletableFuture<Drain.Result> drain(
      String toMember, Duration budget, Duration stopDelay) {
    HandoverTarget target =
        toMember == null ? HandoverTarget.newestVersionEvenly() : HandoverTarget.member(toMember);
    SessionMover<String> app = NodeMain.mover(handoff, stopDelay);
    SessionMover<String> mover =
        new SessionMover<>() {
          @Override
          public String stop(String session) {
            String state = app.stop(session);
            moves.add(new ObservedMove("stopped", session, state, writerId()));
            return state;
          }

          @Override
          public void kept(String session, String state) {
            moves.add(new ObservedMove("kept", session, state, writerId()));
          }
        };
    return handoff.drain(target, budget, mover).done();
  }

  @Override
  public CompletableFuture<Adoption> adopt(String memberId, Duration budget) {
    return handoff.adopt(
        memberId,
        budget,
        a -> moves.add(new ObservedMove("adopted", a.session(), a.state(), a.from().toString())));
  }

  @Override
  public void acceptHandovers(boolean accept) {
    handoff.acceptHandovers(accept);
  }

  @Override
  public List<ObservedMove> moves() {
    return List.copyOf(moves);
  }

  ZkMembership.SessionCredentials session() {
    return membership.sessionCredentials();
  }

  CompletableFuture<Void> leave() {
    return handoff.leave();
  }

  void stop() {
    alive = false;
    handoff.close();
  }

  @Override
  public String toString() {
    return "in-process node " + id;
  }
}
