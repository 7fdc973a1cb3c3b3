package dev.handoff;

import dev.handoff.spi.Membership;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * An in-memory membership whose process can be "paused": while paused, the cluster may expire its
 * session (peers see it go) but the member does not notice — it stays writable and gets no event,
 * as a process stopped by SIGSTOP or a long GC pause past its session timeout. {@link #wake()} lets
 * it notice.
 */
final class ZombieMembership implements Membership {
  private final InMemoryMembership inner;
  private final InMemoryMembership.Cluster cluster;
  private volatile boolean zombie;
  private final java.util.List<MemberEvent> swallowed =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Consumer<MemberEvent> listener;
  private volatile boolean membersFromRegistry;

  ZombieMembership(InMemoryMembership.Cluster cluster, String id) {
    this.cluster = cluster;
    this.inner = cluster.member(id);
  }

  /** The server expires the session while the process is paused: peers see it go at once. */
  void expireWhilePaused() {
    zombie = true;
    cluster.expire(inner);
  }

  /** The process is paused: it notices nothing that happens until {@link #wake()}. */
  void pause() {
    zombie = true;
  }

  /**
   * Members are read from the registry as it is now (as a node that re-reads the group would), even
   * while the member's own events are held back.
   */
  void readMembersFromTheRegistry() {
    membersFromRegistry = true;
  }

  /** The process runs again and notices the loss. */
  void wake() {
    zombie = false;
    Consumer<MemberEvent> l = listener;
    swallowed.forEach(e -> l.accept(e));
    swallowed.clear();
  }

  @Override
  public CompletableFuture<Member> start() {
    return inner.start();
  }

  @Override
  public Member self() {
    return inner.self();
  }

  @Override
  public CompletableFuture<Void> announce(MemberState state) {
    return inner.announce(state);
  }

  @Override
  public List<Member> members() {
    return membersFromRegistry ? cluster.members() : inner.members();
  }

  @Override
  public boolean writable() {
    return zombie || inner.writable();
  }

  @Override
  public AutoCloseable subscribe(Consumer<MemberEvent> l) {
    listener = l;
    return inner.subscribe(
        e -> {
          if (zombie) {
            swallowed.add(e);
          } else {
            l.accept(e);
          }
        });
  }

  @Override
  public CompletableFuture<Void> leave() {
    return inner.leave();
  }

  @Override
  public void close() {
    inner.close();
  }
}
