package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.MemberUp;
import dev.handoff.MemberState;
import dev.handoff.spi.Membership;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
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
 * <p><b>Connection loss.</b> {@code SUSPENDED}: reported; this node stays {@linkplain #writable()
 * writable} (its session may still be alive). {@code RECONNECTED} with the same session: reported,
 * then the member list is read again and anything that changed unseen is reported. {@code LOST}
 * (the session expired): reported, {@link #writable()} turns false at once; once a new session is
 * established this node registers a new znode and reports {@code ConnectionChanged(REREGISTERED,
 * newSelf)} with a higher epoch, after which it is writable again. Connection events are reported
 * once this incarnation has registered for the first time.
 *
 * <p>All ZooKeeper work is asynchronous and its results are handled on one internal thread ({@code
 * handoff-zk-loop-<memberId>}); no public method blocks on ZooKeeper except {@link #close()}.
 */
public final class ZkMembership implements Membership {

  private static final Logger log = LoggerFactory.getLogger(ZkMembership.class);

  private final Settings settings;
  private final String membersPath;
  private final CuratorFramework client;
  private final ScheduledExecutorService loop;
  private final ExecutorService events;
  private final CuratorWatcher watcher = this::onWatchedEvent;
  private final AtomicReference<Lifecycle> lifecycle = new AtomicReference<>(Lifecycle.LATENT);
  private final CompletableFuture<Member> started = new CompletableFuture<>();
  private final AtomicReference<CompletableFuture<Void>> leaving = new AtomicReference<>();

  // Read from any thread, written on the loop thread.
  private volatile Member self;
  private volatile boolean writable;
  private volatile List<Member> members = List.of();

  // Confined to the loop thread.
  private final GroupView view = new GroupView();
  private final List<CompletableFuture<Void>> announcesAwaitingRegistration = new ArrayList<>();
  private Registration registration;
  private final List<String> retired = new ArrayList<>(); // znodes of this node's lost sessions
  private MemberState desiredState = MemberState.STARTING;
  private boolean registering;
  private boolean everRegistered;
  private long sessionGeneration;
  private int childrenRequests;
  private int resyncEndsWithRequest = Integer.MAX_VALUE;
  private int lastChildrenRead;
  private int firstSyncRequest = Integer.MAX_VALUE;
  private int ownZnodeVisibleFrom = Integer.MAX_VALUE;

  // Confined to the events thread.
  private final List<Consumer<MemberEvent>> listeners = new ArrayList<>();

  private enum Lifecycle {
    LATENT,
    STARTED,
    CLOSED
  }

  /** The znode this node registered, on which session, as which member. */
  private record Registration(String path, long sessionId, long generation, Member member) {}

  private ZkMembership(Settings settings) {
    this.settings = settings;
    this.membersPath = settings.root() + "/" + settings.group() + "/members";
    var name = settings.memberId().replaceAll("[^A-Za-z0-9._-]", "_");
    var loopExecutor = new ScheduledThreadPoolExecutor(1, daemon("handoff-zk-loop-" + name));
    // Timers (start timeout, retries) are dropped on close instead of holding the thread.
    loopExecutor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.loop = loopExecutor;
    this.events = Executors.newSingleThreadExecutor(daemon("handoff-zk-events-" + name));
    var builder =
        CuratorFrameworkFactory.builder()
            .connectString(settings.connectString())
            .sessionTimeoutMs(millis(settings.sessionTimeout()))
            .connectionTimeoutMs(millis(settings.connectionTimeout()))
            .retryPolicy(settings.retryPolicy())
            .aclProvider(new FixedAcl(settings.acl()))
            .ensembleTracker(settings.trackEnsemble())
            .dontUseContainerParents();
    if (settings.digestUser() != null) {
      builder.authorization(
          "digest",
          (settings.digestUser() + ":" + settings.digestPassword())
              .getBytes(StandardCharsets.UTF_8));
    }
    if (settings.zkClientConfig() != null) {
      builder.zkClientConfig(settings.zkClientConfig());
    }
    this.client = builder.build();
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /**
   * Connects and registers this incarnation in state {@link MemberState#STARTING}. The future
   * completes with this member once it is registered and the current member list has been read; it
   * completes exceptionally with a {@link TimeoutException} after the start timeout (this instance
   * is then closed), or with an {@link IllegalStateException} if ZooKeeper refuses the registration
   * (for example, the ACL or identity is wrong). Calling it again returns the same future.
   */
  @Override
  public CompletableFuture<Member> start() {
    if (lifecycle.compareAndSet(Lifecycle.LATENT, Lifecycle.STARTED)) {
      AccessChecks.openAclWarning(
              settings.acl(), settings.memberId(), membersPath, settings.connectString())
          .ifPresent(log::warn);
      client
          .getConnectionStateListenable()
          .addListener((c, state) -> onLoop(() -> onConnectionState(state)));
      client
          .getCuratorListenable()
          .addListener(
              (c, event) -> {
                if (event.getType() == CuratorEventType.WATCHED
                    && event.getWatchedEvent().getState() == KeeperState.AuthFailed) {
                  onLoop(this::onAuthFailed);
                }
              });
      client.start();
      loop.schedule(
          this::onStartTimeout, settings.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } else if (lifecycle.get() == Lifecycle.CLOSED && !started.isDone()) {
      started.completeExceptionally(new IllegalStateException("ZkMembership is closed"));
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
    var s = self;
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
    var done = new CompletableFuture<Void>();
    if (!onLoop(() -> announceOnLoop(state, done))) {
      done.completeExceptionally(closedError());
    }
    return done;
  }

  /** The live members as last read, this node included, ordered by member id, then epoch. */
  @Override
  public List<Member> members() {
    return members;
  }

  /**
   * True while this incarnation is registered on a live session: false before registration, from
   * {@code LOST} until {@code REREGISTERED}, and after {@link #leave()} or {@link #close()}.
   */
  @Override
  public boolean writable() {
    return writable;
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
    // The snapshot is taken on the loop thread, so no event is lost or repeated between the
    // replay and the live events that the loop hands to the event thread after it.
    boolean accepted =
        onLoop(
            () -> {
              var current = view.members();
              deliver(
                  () -> {
                    listeners.add(listener);
                    for (var m : current) {
                      call(listener, new MemberUp(m));
                    }
                  });
            });
    if (!accepted) {
      throw closedError();
    }
    return () -> deliver(() -> listeners.remove(listener));
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
    var done = new CompletableFuture<Void>();
    if (!leaving.compareAndSet(null, done)) {
      return leaving.get();
    }
    if (!onLoop(this::leaveOnLoop)) {
      done.completeExceptionally(closedError());
    }
    return done;
  }

  /**
   * Closes the ZooKeeper session (without {@link #leave()}, the znode vanishes with it and peers
   * see {@code MemberDown(EXPIRED)}), delivers the events already queued, and stops both threads.
   * Waits up to a few seconds for them unless called from one of them. Idempotent.
   */
  @Override
  public void close() {
    if (lifecycle.getAndSet(Lifecycle.CLOSED) == Lifecycle.CLOSED) {
      return;
    }
    writable = false;
    try {
      client.close();
    } catch (RuntimeException e) {
      log.warn("Closing the ZooKeeper client of member '{}' failed", settings.memberId(), e);
    }
    try {
      loop.execute(this::failPendingOnClose);
    } catch (RejectedExecutionException alreadyStopped) {
      // nothing pending can be left then
    }
    loop.shutdown();
    awaitUnlessOn(loop, "handoff-zk-loop-");
    events.shutdown();
    awaitUnlessOn(events, "handoff-zk-events-");
  }

  @Override
  public String toString() {
    var s = self;
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

  // ---------------------------------------------------------------------------------------------
  // Package-private views for tests in this package

  CuratorFramework curator() {
    return client;
  }

  String membersPath() {
    return membersPath;
  }

  /** The path of the current registration znode, or null if not registered. */
  CompletableFuture<String> registrationPath() {
    var f = new CompletableFuture<String>();
    if (!onLoop(() -> f.complete(registration == null ? null : registration.path()))) {
      f.complete(null);
    }
    return f;
  }

  // ---------------------------------------------------------------------------------------------
  // Connection states (loop thread)

  private void onConnectionState(org.apache.curator.framework.state.ConnectionState state) {
    if (lifecycle.get() == Lifecycle.CLOSED) {
      return;
    }
    switch (state) {
      case CONNECTED, RECONNECTED -> onConnected(state);
      case SUSPENDED -> {
        view.beginResync();
        resyncEndsWithRequest = Integer.MAX_VALUE;
        report(ConnectionState.SUSPENDED);
      }
      case LOST -> onSessionLost();
      case READ_ONLY -> log.debug("Member '{}' connection is read-only", settings.memberId());
    }
  }

  private void onConnected(org.apache.curator.framework.state.ConnectionState state) {
    long sessionId = currentSessionId();
    if (registration != null && registration.sessionId() != sessionId) {
      // A new session without a LOST event first: the old registration is just as dead.
      onSessionLost();
    }
    report(
        state == org.apache.curator.framework.state.ConnectionState.CONNECTED
            ? ConnectionState.CONNECTED
            : ConnectionState.RECONNECTED);
    view.beginResync();
    resyncEndsWithRequest = refresh();
    if (registration == null) {
      register();
    }
  }

  /**
   * The session is gone (Curator reports LOST when the session expired, or when it was disconnected
   * for longer than the session timeout). This node must not write until it has registered again
   * under a new epoch.
   */
  private void onSessionLost() {
    sessionGeneration++;
    writable = false;
    view.beginResync();
    resyncEndsWithRequest = Integer.MAX_VALUE;
    if (registration != null) {
      view.markExpired(nodeName(registration.path()));
      retired.add(registration.path());
      registration = null;
    }
    report(ConnectionState.LOST);
  }

  private void report(ConnectionState state) {
    if (everRegistered) {
      publish(List.of(new ConnectionChanged(state, self)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Registration (loop thread)

  private void register() {
    if (registering || registration != null || lifecycle.get() == Lifecycle.CLOSED) {
      return;
    }
    if (leaving.get() != null) {
      finishLeave(); // a leave that was waiting for an attempt in flight
      return;
    }
    registering = true;
    // Earlier incarnations of this node may outlive their session on the server for a while:
    // remove them first (same session, so ZooKeeper applies the deletes before the create), so
    // peers see the old incarnation go before the new one comes.
    for (var old : retired) {
      deleteQuietly(old);
    }
    retired.clear();
    var incarnation = UUID.randomUUID().toString();
    var path = membersPath + "/" + encodeName(settings.memberId()) + "@" + incarnation;
    var state = desiredState;
    var draft = new Member(settings.memberId(), 0, settings.host(), settings.version(), state);
    long generation = sessionGeneration;
    var stat = new Stat();
    try {
      client
          .create()
          .storingStatIn(stat)
          .creatingParentsIfNeeded()
          .withMode(CreateMode.EPHEMERAL)
          .inBackground((c, e) -> onCreated(e, path, draft, generation, stat), this::onLoop)
          .forPath(path, MemberData.encode(draft, incarnation));
    } catch (Exception e) {
      registering = false;
      log.warn("Could not send the registration of member '{}'", settings.memberId(), e);
    }
  }

  private void onCreated(CuratorEvent e, String path, Member draft, long generation, Stat stored) {
    registering = false;
    var code = Code.get(e.getResultCode());
    if (code == Code.NODEEXISTS) {
      // A create retried after a lost reply: the znode is ours only if our session owns it.
      confirmOwnZnode(path, draft, generation);
      return;
    }
    if (code != Code.OK) {
      onRegistrationFailed(path, code);
      return;
    }
    var stat = e.getStat() != null ? e.getStat() : stored;
    if (stat.getCzxid() == 0) {
      // No stat came back: read it, since the czxid is the epoch.
      confirmOwnZnode(path, draft, generation);
      return;
    }
    accept(path, draft, generation, stat.getCzxid(), stat.getEphemeralOwner());
  }

  private void confirmOwnZnode(String path, Member draft, long generation) {
    registering = true;
    try {
      client
          .checkExists()
          .inBackground(
              (c, e) -> {
                registering = false;
                var stat = e.getStat();
                if (e.getResultCode() == Code.OK.intValue()
                    && stat != null
                    && stat.getEphemeralOwner() == currentSessionId()) {
                  accept(path, draft, generation, stat.getCzxid(), stat.getEphemeralOwner());
                } else {
                  onRegistrationFailed(path, Code.get(e.getResultCode()));
                }
              },
              this::onLoop)
          .forPath(path);
    } catch (Exception ex) {
      registering = false;
      log.warn("Could not check the registration of member '{}'", settings.memberId(), ex);
    }
  }

  private void accept(String path, Member draft, long generation, long epoch, long sessionId) {
    if (generation != sessionGeneration
        || leaving.get() != null
        || lifecycle.get() == Lifecycle.CLOSED) {
      // Created on a session that has since been lost, or we are leaving: never use it.
      deleteQuietly(path);
      if (leaving.get() == null) {
        retryRegistrationSoon();
      } else {
        finishLeave();
      }
      return;
    }
    var member = new Member(draft.id(), epoch, draft.host(), draft.version(), draft.state());
    registration = new Registration(path, sessionId, generation, member);
    self = member;
    writable = true;
    log.info("Member {} registered at {}", member.writerId(), path);
    boolean first = !everRegistered;
    everRegistered = true;
    if (!first) {
      publish(List.of(new ConnectionChanged(ConnectionState.REREGISTERED, member)));
    }
    if (desiredState != draft.state()) {
      writeState(desiredState, null);
    } else {
      announcesAwaitingRegistration.forEach(f -> f.complete(null));
      announcesAwaitingRegistration.clear();
    }
    int request = refresh();
    ownZnodeVisibleFrom = request;
    if (first) {
      firstSyncRequest = request;
    }
  }

  private void onRegistrationFailed(String path, Code code) {
    if (leaving.get() != null) {
      finishLeave(); // nothing registered, and nothing will be
      return;
    }
    switch (code) {
      case AUTHFAILED -> onAuthFailed();
      case NOAUTH, INVALIDACL -> {
        var error =
            new IllegalStateException(
                "ZooKeeper at "
                    + settings.connectString()
                    + " refused to register member '"
                    + settings.memberId()
                    + "' at "
                    + path
                    + " ("
                    + code
                    + "): check digestAuth(...), zkClientConfig(...) and acl(...); the default"
                    + " ACL (creator-all + world-read) needs an authenticated session, and the"
                    + " parent znodes must let this identity create children");
        log.error(error.getMessage());
        started.completeExceptionally(error);
      }
      case CONNECTIONLOSS,
          OPERATIONTIMEOUT,
          SESSIONEXPIRED,
          SESSIONMOVED,
          NONODE,
          RECONFIGINPROGRESS,
          REQUESTTIMEOUT,
          THROTTLEDOP -> {
        log.info(
            "Registration of member '{}' failed ({}); retrying when connected",
            settings.memberId(),
            code);
        retryRegistrationSoon();
      }
      default -> {
        var error =
            new IllegalStateException(
                "ZooKeeper refused to register member '"
                    + settings.memberId()
                    + "' at "
                    + path
                    + " ("
                    + code
                    + ")");
        log.error(error.getMessage());
        started.completeExceptionally(error);
      }
    }
  }

  private void retryRegistrationSoon() {
    loop.schedule(
        () -> {
          if (client.getZookeeperClient().isConnected()) {
            register();
          }
        },
        200,
        TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------------------------------------
  // Announce and leave (loop thread)

  private void announceOnLoop(MemberState state, CompletableFuture<Void> done) {
    if (lifecycle.get() == Lifecycle.CLOSED) {
      done.completeExceptionally(closedError());
      return;
    }
    if (leaving.get() != null && state != MemberState.LEAVING) {
      done.completeExceptionally(
          new IllegalStateException(
              "member '" + settings.memberId() + "' is leaving; cannot announce " + state));
      return;
    }
    desiredState = state;
    if (registration == null) {
      announcesAwaitingRegistration.add(done);
      return;
    }
    writeState(state, done);
  }

  private void writeState(MemberState state, CompletableFuture<Void> done) {
    var reg = registration;
    var updated = reg.member().withState(state);
    try {
      client
          .setData()
          .inBackground(
              (c, e) -> {
                var code = Code.get(e.getResultCode());
                if (code == Code.OK) {
                  if (registration == reg) {
                    registration =
                        new Registration(reg.path(), reg.sessionId(), reg.generation(), updated);
                    self = updated;
                  }
                  if (done != null) {
                    done.complete(null);
                  }
                  announcesAwaitingRegistration.forEach(f -> f.complete(null));
                  announcesAwaitingRegistration.clear();
                } else if (code == Code.NONODE) {
                  // The registration is gone (session lost, or the znode deleted): this node
                  // re-registers with desiredState, which completes the announcement then.
                  if (done != null) {
                    announcesAwaitingRegistration.add(done);
                  }
                } else {
                  var error = KeeperException.create(code, reg.path());
                  if (done != null) {
                    done.completeExceptionally(error);
                  }
                  announcesAwaitingRegistration.forEach(f -> f.completeExceptionally(error));
                  announcesAwaitingRegistration.clear();
                }
              },
              this::onLoop)
          .forPath(reg.path(), MemberData.encode(updated, incarnationOf(reg.path())));
    } catch (Exception e) {
      if (done != null) {
        done.completeExceptionally(e);
      }
    }
  }

  private void leaveOnLoop() {
    desiredState = MemberState.LEAVING;
    var reg = registration;
    if (reg == null) {
      // Nothing registered now; a registration still in flight deletes itself when it lands.
      if (!registering) {
        finishLeave();
      }
      return;
    }
    var leavingMember = reg.member().withState(MemberState.LEAVING);
    try {
      client
          .setData()
          .inBackground((c, e) -> deleteOwnZnode(reg), this::onLoop)
          .forPath(reg.path(), MemberData.encode(leavingMember, incarnationOf(reg.path())));
    } catch (Exception e) {
      deleteOwnZnode(reg);
    }
  }

  private void deleteOwnZnode(Registration reg) {
    try {
      client
          .delete()
          .inBackground(
              (c, e) -> {
                var code = Code.get(e.getResultCode());
                if (code == Code.OK || code == Code.NONODE || registration != reg) {
                  finishLeave();
                } else {
                  leaving.get().completeExceptionally(KeeperException.create(code, reg.path()));
                }
              },
              this::onLoop)
          .forPath(reg.path());
    } catch (Exception e) {
      leaving.get().completeExceptionally(e);
    }
  }

  private void finishLeave() {
    if (leaving.get().isDone()) {
      return;
    }
    writable = false;
    // Znodes of this node's lost sessions that the server may still hold: remove them too.
    retired.forEach(this::deleteQuietly);
    retired.clear();
    if (registration != null) {
      self = registration.member().withState(MemberState.LEAVING);
      registration = null;
    }
    var error = new IllegalStateException("member '" + settings.memberId() + "' has left");
    announcesAwaitingRegistration.forEach(f -> f.completeExceptionally(error));
    announcesAwaitingRegistration.clear();
    started.completeExceptionally(error);
    leaving.get().complete(null);
  }

  // ---------------------------------------------------------------------------------------------
  // Watching the group (loop thread)

  /** Reads the children of the group (with a watch); returns the request number. */
  private int refresh() {
    int request = ++childrenRequests;
    try {
      client
          .getChildren()
          .usingWatcher(watcher)
          .inBackground((c, e) -> onChildren(request, e), this::onLoop)
          .forPath(membersPath);
    } catch (Exception e) {
      log.warn("Could not read the members of {}", membersPath, e);
    }
    return request;
  }

  private void onChildren(int request, CuratorEvent e) {
    var code = Code.get(e.getResultCode());
    List<String> children;
    if (code == Code.OK) {
      children = e.getChildren();
    } else if (code == Code.NONODE) {
      // The group does not exist (yet): nobody is a member; watch for it to appear.
      children = List.of();
      watchGroupCreation();
    } else {
      log.debug("Reading members of {} failed ({}); will read again", membersPath, code);
      if (client.getZookeeperClient().isConnected()) {
        loop.schedule(() -> refreshIfConnected(), 200, TimeUnit.MILLISECONDS);
      }
      return;
    }
    var out = new ArrayList<MemberEvent>();
    for (var name : view.onChildren(children, out)) {
      readMember(name);
    }
    lastChildrenRead = Math.max(lastChildrenRead, request);
    if (view.resyncing() && request >= resyncEndsWithRequest) {
      view.endResync();
    }
    publish(out);
    if (request >= ownZnodeVisibleFrom) {
      checkOwnZnode(children);
    }
    maybeFinishStart();
  }

  private void refreshIfConnected() {
    if (client.getZookeeperClient().isConnected()) {
      refresh();
    }
  }

  private void watchGroupCreation() {
    try {
      client.checkExists().usingWatcher(watcher).inBackground().forPath(membersPath);
    } catch (Exception e) {
      log.warn("Could not watch {}", membersPath, e);
    }
  }

  private void readMember(String name) {
    try {
      client
          .getData()
          .usingWatcher(watcher)
          .inBackground((c, e) -> onMemberData(name, e), this::onLoop)
          .forPath(membersPath + "/" + name);
    } catch (Exception e) {
      log.warn("Could not read member znode {}", name, e);
    }
  }

  private void onMemberData(String name, CuratorEvent e) {
    var code = Code.get(e.getResultCode());
    var out = new ArrayList<MemberEvent>();
    if (code == Code.OK) {
      var czxid = e.getStat().getCzxid();
      var decoded = MemberData.decode(e.getData(), czxid).orElse(null);
      if (decoded == null) {
        log.warn("Ignoring znode {}/{}: not a member registration", membersPath, name);
      }
      view.onData(name, czxid, decoded, out);
    } else if (code == Code.NONODE) {
      view.onGone(name, out);
    } else {
      // Connection trouble: read again soon if still connected; a reconnect re-reads everything.
      log.debug("Reading member znode {} failed ({})", name, code);
      loop.schedule(
          () -> {
            if (view.contains(name) && client.getZookeeperClient().isConnected()) {
              readMember(name);
            }
          },
          200,
          TimeUnit.MILLISECONDS);
      return;
    }
    publish(out);
    maybeFinishStart();
  }

  private void onWatchedEvent(WatchedEvent event) {
    onLoop(
        () -> {
          var path = event.getPath();
          if (path == null || lifecycle.get() == Lifecycle.CLOSED) {
            return; // connection events: handled by the connection state listener
          }
          if (path.equals(membersPath)) {
            refresh();
            return;
          }
          var name = path.substring(path.lastIndexOf('/') + 1);
          if (event.getType() == EventType.NodeDataChanged) {
            if (view.onDataChanged(name)) {
              readMember(name);
            }
          } else if (event.getType() == EventType.NodeDeleted) {
            var out = new ArrayList<MemberEvent>();
            view.onGone(name, out);
            publish(out);
          }
        });
  }

  /**
   * If this node's own znode is missing from a fresh list while its session is fine (someone
   * deleted it), it is no longer a member: stop writing and register again.
   */
  private void checkOwnZnode(List<String> children) {
    var reg = registration;
    if (reg == null || view.resyncing() || children.contains(nodeName(reg.path()))) {
      return;
    }
    log.warn("Registration znode {} of {} vanished; registering again", reg.path(), reg.member());
    registration = null;
    writable = false;
    report(ConnectionState.LOST);
    register();
  }

  /** Start completes once a member list read after registering has been fully read. */
  private void maybeFinishStart() {
    if (lastChildrenRead >= firstSyncRequest && view.allRead() && !started.isDone()) {
      started.complete(self);
    }
  }

  /**
   * ZooKeeper refused this client's SASL credentials. Before start completes that fails start at
   * once, naming the server, and stops the member: retrying would be refused the same way.
   */
  private void onAuthFailed() {
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
    if (!started.isDone()) {
      started.completeExceptionally(
          new TimeoutException(
              "member '"
                  + settings.memberId()
                  + "' could not register at "
                  + settings.connectString()
                  + membersPath
                  + " within startTimeout "
                  + settings.startTimeout()));
      close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  private void publish(List<MemberEvent> batch) {
    members = view.members();
    if (batch.isEmpty()) {
      return;
    }
    if (log.isDebugEnabled()) {
      batch.forEach(ev -> log.debug("{}: {}", settings.memberId(), ev));
    }
    deliver(
        () -> {
          for (var ev : batch) {
            for (var l : List.copyOf(listeners)) {
              call(l, ev);
            }
          }
        });
  }

  private void deliver(Runnable task) {
    try {
      events.execute(task);
    } catch (RejectedExecutionException closed) {
      // after close() no more events are delivered
    }
  }

  private void call(Consumer<MemberEvent> listener, MemberEvent event) {
    try {
      listener.accept(event);
    } catch (RuntimeException e) {
      log.warn("Listener of member '{}' failed on {}", settings.memberId(), event, e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** Runs {@code task} on the loop thread; false if this instance no longer runs tasks. */
  private boolean onLoop(Runnable task) {
    try {
      loop.execute(
          () -> {
            if (lifecycle.get() == Lifecycle.CLOSED) {
              return; // late ZooKeeper callbacks after close(): nothing to report any more
            }
            try {
              task.run();
            } catch (RuntimeException e) {
              log.error("Membership loop of '{}' failed", settings.memberId(), e);
            }
          });
      return true;
    } catch (RejectedExecutionException closed) {
      return false;
    }
  }

  private void failPendingOnClose() {
    var error = closedError();
    announcesAwaitingRegistration.forEach(f -> f.completeExceptionally(error));
    announcesAwaitingRegistration.clear();
    started.completeExceptionally(error);
    var leave = leaving.get();
    if (leave != null) {
      leave.completeExceptionally(error);
    }
  }

  private IllegalStateException closedError() {
    return new IllegalStateException("ZkMembership of '" + settings.memberId() + "' is closed");
  }

  private void deleteQuietly(String path) {
    try {
      client.delete().inBackground().forPath(path);
    } catch (Exception e) {
      log.debug("Could not delete {}", path, e);
    }
  }

  private long currentSessionId() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return -1;
    }
  }

  private static String nodeName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static String incarnationOf(String path) {
    return path.substring(path.lastIndexOf('@') + 1);
  }

  private static String encodeName(String memberId) {
    return URLEncoder.encode(memberId, StandardCharsets.UTF_8).replace("*", "%2A");
  }

  private static void awaitUnlessOn(ExecutorService executor, String threadPrefix) {
    if (Thread.currentThread().getName().startsWith(threadPrefix)) {
      return;
    }
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      var t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
  }

  // ZooKeeper's validateACL calls acl.contains(null), which immutable lists refuse with an NPE:
  // hand it a mutable copy every time.
  private record FixedAcl(List<ACL> acl) implements ACLProvider {
    @Override
    public List<ACL> getDefaultAcl() {
      return new java.util.ArrayList<>(acl);
    }

    @Override
    public List<ACL> getAclForPath(String path) {
      return new java.util.ArrayList<>(acl);
    }
  }

  /** The validated options of one instance. */
  record Settings(
      String connectString,
      String root,
      String group,
      String memberId,
      String host,
      String version,
      Duration sessionTimeout,
      Duration connectionTimeout,
      Duration startTimeout,
      RetryPolicy retryPolicy,
      List<ACL> acl,
      boolean trackEnsemble,
      String digestUser,
      String digestPassword,
      ZKClientConfig zkClientConfig) {}

  // ---------------------------------------------------------------------------------------------
  // Builder

  /**
   * Options of a {@link ZkMembership}. Every setter rejects a bad value at once with a message
   * naming the option; {@link #build()} checks that the required options are set. Not thread-safe;
   * build once.
   */
  public static final class Builder {
    /** The default ACL: the creating identity may do anything, everyone may read. */
    private static final List<ACL> CREATOR_ALL_WORLD_READ =
        aclList(
            List.of(
                new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
                new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));

    private String connectString;
    private String root = "/handoff";
    private String group = "default";
    private String memberId;
    private String host;
    private String version = "unknown";
    private Duration sessionTimeout = Duration.ofSeconds(15);
    private Duration connectionTimeout = Duration.ofSeconds(10);
    private Duration startTimeout = Duration.ofSeconds(30);
    private RetryPolicy retryPolicy;
    private List<ACL> acl;
    private String digestUser;
    private String digestPassword;
    private ZKClientConfig zkClientConfig;
    private boolean trackEnsemble = true;

    private Builder() {}

    /** Required. ZooKeeper servers, {@code host:port[,host:port...][/chroot]}. */
    public Builder connectString(String connectString) {
      this.connectString = requireText("connectString", connectString);
      return this;
    }

    /** The root znode of all Handoff data. Default {@code /handoff}. */
    public Builder root(String root) {
      requireText("root", root);
      if (!root.startsWith("/") || (root.length() > 1 && root.endsWith("/"))) {
        throw new IllegalArgumentException(
            "root must be an absolute znode path without a trailing '/', got '" + root + "'");
      }
      try {
        PathUtils.validatePath(root);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "root '" + root + "' is not a valid znode path: " + e.getMessage(), e);
      }
      this.root = root.equals("/") ? "" : root;
      return this;
    }

    /** The group (cluster) this member belongs to: one znode name. Default {@code default}. */
    public Builder group(String group) {
      requireText("group", group);
      if (group.contains("/") || group.equals(".") || group.equals("..")) {
        throw new IllegalArgumentException(
            "group must be a single znode name (no '/', not '.' or '..'), got '" + group + "'");
      }
      PathUtils.validatePath("/" + group);
      this.group = group;
      return this;
    }

    /** Required. This member's id, stable across restarts (for example a pod name). */
    public Builder memberId(String memberId) {
      this.memberId = requireText("memberId", memberId);
      requireLength("memberId", memberId, 200);
      return this;
    }

    /** Where this member runs, for humans. Default: the local host name. */
    public Builder host(String host) {
      this.host = requireText("host", host);
      requireLength("host", host, 1024);
      return this;
    }

    /** The application version this member runs. Default {@code unknown}. */
    public Builder version(String version) {
      this.version = requireText("version", version);
      requireLength("version", version, 1024);
      return this;
    }

    /**
     * ZooKeeper session timeout (the server may clamp it to its min/max). A crashed member is
     * reported EXPIRED about this long after it stopped. Default 15 s.
     */
    public Builder sessionTimeout(Duration timeout) {
      this.sessionTimeout = requirePositive("sessionTimeout", timeout);
      return this;
    }

    /** How long one connection attempt may take. Default 10 s. */
    public Builder connectionTimeout(Duration timeout) {
      this.connectionTimeout = requirePositive("connectionTimeout", timeout);
      return this;
    }

    /** How long {@link ZkMembership#start()} may take before it fails. Default 30 s. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = requirePositive("startTimeout", timeout);
      return this;
    }

    /**
     * Curator retry policy for each ZooKeeper operation. Default: exponential backoff from 100 ms,
     * at most 1 s between tries, 10 tries.
     */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * Authenticates the session with ZooKeeper's digest scheme ({@code user:password}); with the
     * default ACL, only this identity (or a ZooKeeper superuser) can then change or delete the
     * member znodes, and everyone can read them.
     */
    public Builder digestAuth(String user, String password) {
      requireText("digestAuth user", user);
      if (user.contains(":")) {
        throw new IllegalArgumentException(
            "digestAuth user must not contain ':', got '" + user + "'");
      }
      this.digestUser = user;
      this.digestPassword = requireText("digestAuth password", password);
      return this;
    }

    /**
     * ZooKeeper client settings passed through unchanged: TLS ({@code zookeeper.client.secure},
     * {@code zookeeper.clientCnxnSocket}, {@code zookeeper.ssl.*}) and SASL ({@code
     * zookeeper.sasl.client}, JAAS section). A session authenticated by SASL or by a TLS client
     * certificate can use the default ACL.
     */
    public Builder zkClientConfig(ZKClientConfig config) {
      this.zkClientConfig = Objects.requireNonNull(config, "zkClientConfig");
      return this;
    }

    /**
     * The ACL of every znode this member creates (its registration and any missing parents).
     * Default: creator-all + world-read, which needs an authenticated session ({@link #digestAuth},
     * or SASL / TLS through {@link #zkClientConfig}).
     */
    public Builder acl(List<ACL> acl) {
      Objects.requireNonNull(acl, "acl");
      if (acl.isEmpty()) {
        throw new IllegalArgumentException("acl must not be empty");
      }
      this.acl = aclList(acl);
      return this;
    }

    /**
     * Uses the world-writable ACL: anyone who can reach ZooKeeper can delete or rewrite member
     * znodes. Only for development clusters without authentication.
     */
    public Builder openAcl() {
      this.acl = aclList(ZooDefs.Ids.OPEN_ACL_UNSAFE);
      return this;
    }

    /**
     * Whether Curator may replace the connect string with the servers listed in the ensemble's
     * dynamic configuration ({@code /zookeeper/config}), so that a client can fail over to servers
     * it was not given. Default true. Turn it off when clients reach the servers through other
     * addresses than the ones the servers advertise (proxies, NAT, port forwarding).
     */
    public Builder trackEnsemble(boolean track) {
      this.trackEnsemble = track;
      return this;
    }

    /**
     * Builds an instance (not started).
     *
     * @throws IllegalStateException if {@code connectString} or {@code memberId} is missing, or if
     *     the default ACL is used without any identity ({@code digestAuth} or {@code
     *     zkClientConfig})
     */
    public ZkMembership build() {
      if (connectString == null) {
        throw new IllegalStateException("connectString is required");
      }
      if (memberId == null) {
        throw new IllegalStateException("memberId is required");
      }
      if (acl == null && digestUser == null && zkClientConfig == null) {
        throw new IllegalStateException(
            "the default ACL (creator-all + world-read) needs an identity: set digestAuth(user,"
                + " password) or zkClientConfig(...) with SASL/TLS, or choose openAcl() or acl(...)");
      }
      var policy = retryPolicy != null ? retryPolicy : new ExponentialBackoffRetry(100, 10, 1000);
      return new ZkMembership(
          new Settings(
              connectString,
              root,
              group,
              memberId,
              host != null ? host : localHostName(),
              version,
              sessionTimeout,
              connectionTimeout,
              startTimeout,
              policy,
              acl != null ? acl : CREATOR_ALL_WORLD_READ,
              trackEnsemble,
              digestUser,
              digestPassword,
              zkClientConfig));
    }

    /** ZooKeeper asks an ACL list whether it contains null, which {@code List.of} refuses. */
    private static List<ACL> aclList(List<ACL> acl) {
      for (var entry : acl) {
        Objects.requireNonNull(entry, "acl entry");
      }
      return Collections.unmodifiableList(new ArrayList<>(acl));
    }

    private static String localHostName() {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        return "unknown";
      }
    }

    private static String requireText(String option, String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(option + " must not be null or blank");
      }
      return value;
    }

    private static void requireLength(String option, String value, int max) {
      if (value.length() > max) {
        throw new IllegalArgumentException(
            option + " must be at most " + max + " characters, got " + value.length());
      }
    }

    private static Duration requirePositive(String option, Duration value) {
      if (value == null || value.isZero() || value.isNegative()) {
        throw new IllegalArgumentException(option + " must be positive, got " + value);
      }
      return value;
    }
  }
}
