package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberState;
import dev.handoff.spi.Membership;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster membership over ZooKeeper (through Curator): the Java counterpart of {@code
 * :net_kernel.monitor_nodes}.
 *
 * <p>Each instance is one member incarnation. {@link #start()} creates one <em>ephemeral</em> znode
 * {@code <root>/<group>/members/<memberId>@<uuid>} holding the member's id, host, version and
 * {@link MemberState}; the znode's {@code czxid} is the incarnation's fencing {@linkplain
 * Member#epoch() epoch}. A znode is never reused or adopted: a new incarnation (a restart, or a
 * re-registration after the session was lost) always creates a new znode with a higher czxid.
 *
 * <p><b>Events.</b> Listeners receive {@link MemberEvent}s in order on one thread owned by this
 * instance (named {@code handoff-zk-events-<memberId>}). {@code MemberDown} carries why: {@code
 * LEFT} (it announced {@code LEAVING} and removed its znode), {@code EXPIRED} (its session ended
 * without a leave), {@code UNKNOWN} (it went away while this node was disconnected). A member that
 * went down and came back while this node was not watching is reported as down, then up:
 * incarnations are told apart by znode, never by data version.
 *
 * <p><b>Connection loss.</b> {@link #writable()} follows the session's lease, not Curator's states:
 * it turns false on its own once the session can no longer be proven alive. {@code SUSPENDED}:
 * reported. {@code RECONNECTED} with the same session: reported, then the member list is read again
 * and anything that changed unseen is reported. {@code LOST} (the session expired): reported,
 * {@link #writable()} is false from then on; once a new session is established this node registers
 * a new znode (at once the first time; after quick repeated losses with a growing delay, 1 s
 * doubling up to 30 s) and reports {@code ConnectionChanged(REREGISTERED, newSelf)} with a higher
 * epoch, after which it is writable again. Connection events are reported once this incarnation has
 * registered for the first time.
 *
 * <p><b>Twins.</b> Another live registration with this member id, from another process, is a twin.
 * The process that registered first is the older (a re-registration after a loss keeps its
 * process's rank). The older is superseded: it reports {@code ConnectionChanged(SUPERSEDED, self)},
 * is never writable again, deletes its znode (peers see {@code MemberDown(EXPIRED)}) and never
 * registers again. The newer logs a warning naming both and carries on.
 *
 * <p><b>Lifecycle.</b> {@link #start()} is idempotent: every call returns the same future, and
 * after {@link #close()} it returns a failed future. {@code close()} is idempotent and never
 * throws; futures still pending then complete exceptionally.
 *
 * <p>All ZooKeeper work is asynchronous and its results are handled on one internal thread ({@code
 * handoff-zk-loop-<memberId>}); no public method blocks on ZooKeeper except {@link #close()}.
 */
public final class ZkMembership implements Membership {

  private static final Logger log = LoggerFactory.getLogger(ZkMembership.class);

  private final ZkSettings settings;
  private final CuratorFramework client;
  private final MembershipLoop loop;
  private final MemberEvents events;
  private final GroupWatcher group;
  private final Lease lease;
  private final SessionHeartbeat heartbeat;
  private final Registration registration;
  private final ConnectionStates connection;

  ZkMembership(ZkSettings settings) {
    this.settings = settings;
    var handles = new ClientHandles(System::nanoTime);
    this.client = settings.newClient(handles);
    this.loop = new MembershipLoop(settings.memberId());
    this.events = new MemberEvents(settings.memberId());
    this.group = new GroupWatcher(client, settings.membersPath(), loop, events);
    this.lease = new Lease(System::nanoTime);
    var registered = new AtomicReference<Registration>();
    this.heartbeat =
        new SessionHeartbeat(
            settings.memberId(),
            client,
            handles,
            lease,
            settings.sessionTimeout(),
            () -> loop.run(() -> registered.get().leaseRenewed()),
            System::nanoTime);
    this.registration =
        new Registration(settings, client, loop, events, group, lease, heartbeat, this::close);
    registered.set(registration);
    // The registration checks its own znode in, and finishes start() on, what the watcher reads.
    group.afterEachRead(registration);
    this.connection = new ConnectionStates(settings.memberId(), loop, events, group, registration);
  }

  /** Starts a builder. */
  public static ZkMembershipBuilder builder() {
    return new ZkMembershipBuilder();
  }

  /**
   * Connects and registers this incarnation in state {@link MemberState#STARTING}. The future
   * completes with this member once it is registered and the current member list has been read; it
   * completes exceptionally with a {@link TimeoutException} after the start timeout, or with an
   * {@link IllegalStateException} once the retry policy allows no more registration attempts
   * (either way this instance is then closed), or with an {@link IllegalStateException} if
   * ZooKeeper refuses the registration (for example, the ACL or identity is wrong).
   *
   * <p>Idempotent: calling it again returns the same future. After {@link #close()} it returns a
   * failed future.
   */
  @Override
  public CompletableFuture<Member> start() {
    var started = registration.started();
    if (loop.start()) {
      AccessChecks.openAclWarning(
              settings.acl(), settings.memberId(), settings.membersPath(), settings.connectString())
          .ifPresent(log::warn);
      client.getConnectionStateListenable().addListener(connection);
      client
          .getCuratorListenable()
          .addListener(
              (c, event) -> {
                if (event.getType() == CuratorEventType.WATCHED
                    && event.getWatchedEvent().getState() == KeeperState.AuthFailed) {
                  loop.run(this::onAuthFailed);
                }
              });
      client.start();
      heartbeat.start();
      loop.schedule(this::onStartTimeout, settings.startTimeout().toMillis());
    } else if (loop.closed()) {
      started.completeExceptionally(loop.closedError());
      if (!started.isCompletedExceptionally()) {
        // Started before close(): that future stays completed, but a start now cannot succeed.
        return CompletableFuture.failedFuture(loop.closedError());
      }
    }
    return started;
  }

  /**
   * This incarnation as last registered (its state follows completed {@link #announce} calls).
   *
   * @throws IllegalStateException before the first registration
   */
  @Override
  public Member self() {
    var s = registration.self();
    if (s == null) {
      throw new IllegalStateException(
          "member '" + settings.memberId() + "' is not registered yet: call start() and wait");
    }
    return s;
  }

  /**
   * Stores a new state in this incarnation's znode. The future completes once ZooKeeper has stored
   * it. While the session is {@code LOST}, the state is kept and the future completes when the
   * re-registration (which carries it) succeeds. Fails with {@link IllegalStateException} after
   * {@link #leave()} (for any state but LEAVING) or {@link #close()}.
   */
  @Override
  public CompletableFuture<Void> announce(MemberState state) {
    Objects.requireNonNull(state, "state");
    return registration.announce(state);
  }

  /** The live members as last read, this node included, ordered by member id, then epoch. */
  @Override
  public List<Member> members() {
    return group.members();
  }

  /**
   * True only while this incarnation is certainly still a member (see {@link
   * Membership#writable()}): registered and checked (from {@code start()} completing, or from
   * {@code REREGISTERED}), not {@code LOST}, not {@code SUPERSEDED}, no {@link #leave()} or {@link
   * #close()}, and the session's <b>lease</b> holds.
   *
   * <p>The lease: with T the session timeout the server negotiated and a margin of {@code max(T/3,
   * 1 s)} (at most T/2), the session is certainly alive while less than {@code T - margin} has
   * passed, on {@link System#nanoTime()}, since the send time of the last request the server
   * answered. This member sends a {@code sync} every T/4 for it (for the default 15 s: a lease of
   * 10 s, renewed every 3.75 s). So {@code writable()} turns false on its own while the client is
   * cut off or paused, before the server can have expired the session and well before Curator
   * reports {@code SUSPENDED} or {@code LOST}; after a pause longer than the lease it is false from
   * the first instant the process runs again. It becomes true again without an event when a later
   * answer renews the lease (if the session survived), or after {@code REREGISTERED}.
   */
  @Override
  public boolean writable() {
    return registration.writable();
  }

  /**
   * Adds a listener, called on this instance's event thread. It first receives {@code MemberUp} for
   * every member currently known, then every later event, in order. An exception thrown by a
   * listener is logged and does not stop later events. The returned handle removes the listener.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  @Override
  public AutoCloseable subscribe(Consumer<MemberEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    if (!loop.run(() -> events.subscribe(listener, group.currentMembers()))) {
      throw loop.closedError();
    }
    return () -> events.unsubscribe(listener);
  }

  /**
   * Graceful leave: stores {@link MemberState#LEAVING}, then deletes this incarnation's znode, so
   * peers see {@code MemberDown(LEFT)} at once. Completes when the znode is gone (or the session is
   * lost, which removes it too); completes exceptionally if ZooKeeper could not be reached, and the
   * znode then goes when the session ends. No re-registration happens after a leave. Idempotent:
   * every call returns the same future.
   */
  @Override
  public CompletableFuture<Void> leave() {
    return registration.leave();
  }

  /**
   * Closes the ZooKeeper session (without {@link #leave()}, the znode vanishes with it and peers
   * see {@code MemberDown(EXPIRED)}), fails the futures still pending, delivers the events already
   * queued, and stops both threads. Waits up to a few seconds for them unless called from one of
   * them. Idempotent: a second call does nothing and never throws.
   */
  @Override
  public void close() {
    if (!loop.close()) {
      return;
    }
    registration.stopWriting();
    heartbeat.close();
    try {
      client.close();
    } catch (RuntimeException e) {
      log.warn("Closing the ZooKeeper client of member '{}' failed", settings.memberId(), e);
    }
    loop.shutdown(registration::failPending);
    events.close();
  }

  @Override
  public String toString() {
    var s = registration.self();
    return "ZkMembership[" + (s == null ? settings.memberId() : s.writerId()) + "]";
  }

  /**
   * The id and password of the current ZooKeeper session, for fault-injection tests that force a
   * real server-side expiry (handoff-testkit's {@code EmbeddedZooKeeper.expireSession}). The
   * password is a secret: never log it.
   *
   * @throws IllegalStateException if there is no connected session
   */
  public SessionCredentials sessionCredentials() {
    try {
      var zk = client.getZookeeperClient().getZooKeeper();
      if (zk.getSessionId() == 0) {
        throw new IllegalStateException("no ZooKeeper session yet");
      }
      return new SessionCredentials(zk.getSessionId(), zk.getSessionPasswd());
    } catch (IllegalStateException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("no ZooKeeper session: " + e.getMessage(), e);
    }
  }

  /** A ZooKeeper session's id and password; see {@link #sessionCredentials()}. */
  public record SessionCredentials(long sessionId, byte[] password) {
    @Override
    public String toString() {
      return "SessionCredentials[0x" + Long.toHexString(sessionId) + "]";
    }
  }

  /**
   * ZooKeeper refused this client's SASL credentials. Before start completes that fails start at
   * once, naming the server, and stops the member: retrying would be refused the same way.
   */
  private void onAuthFailed() {
    var started = registration.started();
    if (started.isDone()) {
      log.error(
          "ZooKeeper at {} refused the SASL authentication of member '{}' on a reconnect",
          settings.connectString(),
          settings.memberId());
      return;
    }
    var error =
        AccessChecks.saslRefused(
            settings.memberId(), settings.connectString(), settings.zkClientConfig());
    log.error(error.getMessage());
    started.completeExceptionally(error);
    close();
  }

  private void onStartTimeout() {
    var started = registration.started();
    if (!started.isDone()) {
      started.completeExceptionally(
          new TimeoutException(
              "member '"
                  + settings.memberId()
                  + "' could not register at "
                  + settings.connectString()
                  + settings.membersPath()
                  + " within startTimeout "
                  + settings.startTimeout()));
      close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Package-private views for tests in this package

  CuratorFramework curator() {
    return client;
  }

  /** What is left of the session's lease now (zero if none holds). */
  Duration leaseRemaining() {
    return lease.remaining();
  }

  String membersPath() {
    return settings.membersPath();
  }

  /** The path of the current registration znode, or null if not registered. */
  CompletableFuture<String> registrationPath() {
    var f = new CompletableFuture<String>();
    if (!loop.run(() -> f.complete(registration.path()))) {
      f.complete(null);
    }
    return f;
  }
}
