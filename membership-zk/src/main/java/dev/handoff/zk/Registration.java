package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberState;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's own incarnation in the group: its ephemeral znode {@code <memberId>@<uuid>}, the
 * state stored in it ({@link #announce}), its removal ({@link #leave}), and a new znode after the
 * session was lost or the znode deleted. A znode is never reused: each registration creates a new
 * one, whose czxid is the new epoch. Confined to the loop thread, except the methods that say
 * otherwise.
 *
 * <p><b>Writable.</b> A new registration becomes writable once a member list read after it has been
 * fully read without a newer twin in it, and while the {@link Lease} of its session holds. That is
 * when {@code start()} completes (first registration) or {@code REREGISTERED} is reported (later
 * ones).
 *
 * <p><b>Twins.</b> Another live znode with this member id that this process did not create is a
 * twin. Twins are ranked by the first epoch of their process ({@code since} in the payload): a
 * re-registration after a loss keeps its process's rank, so a zombie that comes back never outranks
 * a process started after it. The newer process logs a warning; the older is superseded ({@link
 * #supersede}).
 *
 * <p>A registration attempt that fails on connection trouble is tried again as the configured
 * Curator {@code RetryPolicy} allows ({@link RegistrationRetries}); when the policy gives up, a
 * pending {@code start()} fails, and otherwise the next connection state change starts over. After
 * a lost registration, registering again waits as {@link RegistrationBackoff} says.
 */
final class Registration implements GroupWatcher.Reads {

  private static final Logger log = LoggerFactory.getLogger(Registration.class);

  /** The znode this node registered, on which session, as which member. */
  private record Znode(String path, long sessionId, long generation, Member member) {
    String name() {
      return nodeName(path);
    }
  }

  private final ZkSettings settings;
  private final String membersPath;
  private final CuratorFramework client;
  private final MembershipLoop loop;
  private final MemberEvents events;
  private final GroupWatcher group;
  private final Runnable closeMembership;
  private final RegistrationRetries retries;
  private final RegistrationBackoff backoff;
  private final Lease lease;
  private final SessionHeartbeat heartbeat;
  private final LongSupplier nanoTime;
  private final CompletableFuture<Member> started = new CompletableFuture<>();
  private final AtomicReference<CompletableFuture<Void>> leaving = new AtomicReference<>();

  // Read from any thread, written on the loop thread.
  private volatile Member self;
  private volatile long writableSession; // the session of a verified registration, 0 if none
  private volatile boolean superseded;

  // Confined to the loop thread.
  private Znode registration;
  private boolean verified; // the current registration was checked and reported
  private final List<String> retired = new ArrayList<>(); // znodes of this node's lost sessions
  private final Set<String> ownNames = new HashSet<>(); // every znode this process created
  private final Set<String> twinsWarnedAbout = new HashSet<>();
  private final List<CompletableFuture<Void>> announcesAwaitingRegistration = new ArrayList<>();
  private MemberState desiredState = MemberState.STARTING;
  private boolean registering;
  private boolean everRegistered;
  private long processEpoch; // epoch of this process's first registration, 0 before
  private long sessionGeneration;
  private ScheduledFuture<?> pendingRetry;
  private ScheduledFuture<?> pendingBackoff;
  private long registerNotBefore;
  private int ownZnodeVisibleFrom = Integer.MAX_VALUE;

  /**
   * @param closeMembership closes the whole member; run when registering gave up before start
   */
  Registration(
      ZkSettings settings,
      CuratorFramework client,
      MembershipLoop loop,
      MemberEvents events,
      GroupWatcher group,
      Lease lease,
      SessionHeartbeat heartbeat,
      Runnable closeMembership) {
    this.settings = settings;
    this.membersPath = settings.membersPath();
    this.client = client;
    this.loop = loop;
    this.events = events;
    this.group = group;
    this.lease = lease;
    this.heartbeat = heartbeat;
    this.closeMembership = closeMembership;
    this.nanoTime = System::nanoTime;
    this.retries =
        new RegistrationRetries(() -> client.getZookeeperClient().getRetryPolicy(), nanoTime);
    this.backoff = new RegistrationBackoff(nanoTime);
    this.registerNotBefore = nanoTime.getAsLong();
  }

  // ---------------------------------------------------------------------------------------------
  // Any thread

  /**
   * Completes with this member once it is registered and the first members list after that is fully
   * read.
   */
  CompletableFuture<Member> started() {
    return started;
  }

  /** This incarnation as last registered, or null before the first registration. */
  Member self() {
    return self;
  }

  /**
   * True while a verified registration's session holds its lease: see {@link
   * ZkMembership#writable()}.
   */
  boolean writable() {
    long session = writableSession;
    return session != 0 && lease.holds(session);
  }

  /** True once a newer incarnation of this member id superseded this one (final). */
  boolean superseded() {
    return superseded;
  }

  /** Stores {@code state} in the znode; see {@link ZkMembership#announce}. */
  CompletableFuture<Void> announce(MemberState state) {
    var done = new CompletableFuture<Void>();
    loop.runOrFail(done, () -> announceOnLoop(state, done));
    return done;
  }

  /** Announces LEAVING, then deletes the znode; see {@link ZkMembership#leave}. */
  CompletableFuture<Void> leave() {
    var done = new CompletableFuture<Void>();
    if (!leaving.compareAndSet(null, done)) {
      return leaving.get();
    }
    loop.runOrFail(done, this::leaveOnLoop);
    return done;
  }

  /** The member is closing: stop writing at once. */
  void stopWriting() {
    writableSession = 0;
  }

  /** The member is closed: every pending future fails. Runs on the loop thread after close. */
  void failPending() {
    var error = loop.closedError();
    failAwaitingAnnounces(error);
    started.completeExceptionally(error);
    var leave = leaving.get();
    if (leave != null) {
      leave.completeExceptionally(error);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: what the connection tells

  /** The path of the current registration znode, or null if not registered. */
  String path() {
    return registration == null ? null : registration.path();
  }

  /** True once registered for the first time: connection changes are reported from then on. */
  boolean everRegistered() {
    return everRegistered;
  }

  /** True if registered on a session other than {@code sessionId}. */
  boolean registeredOnAnotherSession(long sessionId) {
    return registration != null && registration.sessionId() != sessionId;
  }

  /**
   * The session is gone: this node must not write until it has registered again under a new epoch.
   * Its znode (which the server may still hold for a while) is retired and deleted before the next
   * registration.
   */
  void sessionLost() {
    sessionGeneration++;
    writableSession = 0;
    if (registration != null) {
      group.markExpired(registration.name());
      retired.add(registration.path());
      registration = null;
      verified = false;
      backOffAfterLoss();
    }
  }

  /**
   * Registers this incarnation unless it is registered, an attempt is in flight, or it was
   * superseded. Waits first if a lost registration asks for a back-off. Starts a new sequence of
   * attempts, counted by the retry policy from here.
   */
  void register() {
    if (registering || registration != null || superseded || loop.closed()) {
      return;
    }
    var newer = newerTwin();
    if (newer != null) {
      supersede(newer); // seen while this node was away: do not come back at all
      return;
    }
    long waitNanos = registerNotBefore - nanoTime.getAsLong();
    if (waitNanos > 0) {
      if (pendingBackoff == null) {
        pendingBackoff =
            loop.schedule(
                () -> {
                  pendingBackoff = null;
                  if (client.getZookeeperClient().isConnected()) {
                    register();
                  }
                },
                TimeUnit.NANOSECONDS.toMillis(waitNanos) + 1);
      }
      return;
    }
    cancelPendingRetry();
    retries.firstAttempt();
    attempt();
  }

  /** A registration was just lost: when may the next one be made? */
  private void backOffAfterLoss() {
    var delay = backoff.lost();
    registerNotBefore = nanoTime.getAsLong() + delay.toNanos();
    if (!delay.isZero()) {
      log.warn(
          "Member '{}' lost {} registrations in a row, each less than {} s after making it:"
              + " registering again in {} ms",
          settings.memberId(),
          backoff.quickLosses(),
          RegistrationBackoff.STABLE.toSeconds(),
          delay.toMillis());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: registering

  private void attempt() {
    if (registering || registration != null || loop.closed()) {
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
    ownNames.add(nodeName(path));
    var draft =
        new Member(settings.memberId(), 0, settings.host(), settings.version(), desiredState);
    long generation = sessionGeneration;
    var stat = new Stat();
    long sent = nanoTime.getAsLong();
    try {
      client
          .create()
          .storingStatIn(stat)
          .creatingParentsIfNeeded()
          .withMode(CreateMode.EPHEMERAL)
          .inBackground(
              (c, e) -> onCreated(e, path, draft, generation, stat, sent), loop.executor())
          .forPath(path, MemberData.encode(draft, incarnation, processEpoch));
    } catch (Exception e) {
      registering = false;
      log.warn("Could not send the registration of member '{}'", settings.memberId(), e);
    }
  }

  private void onCreated(
      CuratorEvent e, String path, Member draft, long generation, Stat stored, long sent) {
    registering = false;
    var code = Code.get(e.getResultCode());
    if (code == Code.NODEEXISTS) {
      // A create retried after a lost reply: the znode is ours only if our session owns it.
      confirmOwnZnode(path, draft, generation, sent);
      return;
    }
    if (code != Code.OK) {
      onRegistrationFailed(path, code);
      return;
    }
    var stat = e.getStat() != null ? e.getStat() : stored;
    if (stat.getCzxid() == 0) {
      // No stat came back: read it, since the czxid is the epoch.
      confirmOwnZnode(path, draft, generation, sent);
      return;
    }
    accept(path, draft, generation, stat.getCzxid(), stat.getEphemeralOwner(), sent);
  }

  private void confirmOwnZnode(String path, Member draft, long generation, long sent) {
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
                    && stat.getEphemeralOwner() == sessionIdOf(client)) {
                  accept(path, draft, generation, stat.getCzxid(), stat.getEphemeralOwner(), sent);
                } else {
                  onRegistrationFailed(path, Code.get(e.getResultCode()));
                }
              },
              loop.executor())
          .forPath(path);
    } catch (Exception ex) {
      registering = false;
      log.warn("Could not check the registration of member '{}'", settings.memberId(), ex);
    }
  }

  private void accept(
      String path, Member draft, long generation, long epoch, long sessionId, long sent) {
    if (generation != sessionGeneration || leaving.get() != null || superseded || loop.closed()) {
      // Created on a session that has since been lost, or we are leaving or superseded: never use
      // it.
      deleteQuietly(path);
      if (leaving.get() != null) {
        finishLeave();
      } else if (!superseded) {
        retryLater(path, Code.SESSIONEXPIRED);
      }
      return;
    }
    cancelPendingRetry();
    // A create is checked by the leader like a sync: its answer counts for the lease.
    heartbeat.answered(sessionId, sent);
    var member = new Member(draft.id(), epoch, draft.host(), draft.version(), draft.state());
    registration = new Znode(path, sessionId, generation, member);
    verified = false;
    self = member;
    if (processEpoch == 0) {
      processEpoch = epoch;
    }
    backoff.registered();
    log.info("Member {} registered at {}", member.writerId(), path);
    everRegistered = true;
    if (desiredState != draft.state()) {
      writeState(desiredState, null);
    } else {
      announcesAwaitingRegistration.forEach(f -> f.complete(null));
      announcesAwaitingRegistration.clear();
    }
    ownZnodeVisibleFrom = group.refresh();
  }

  private void onRegistrationFailed(String path, Code code) {
    if (leaving.get() != null) {
      finishLeave(); // nothing registered, and nothing will be
      return;
    }
    switch (code) {
      case AUTHFAILED -> {
        // The SASL authentication was refused: the same credentials would be refused again.
        var error =
            AccessChecks.saslRefused(
                settings.memberId(), settings.connectString(), settings.zkClientConfig());
        if (!started.isDone()) {
          log.error(error.getMessage());
          started.completeExceptionally(error);
          closeMembership.run();
        }
      }
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
        retryLater(path, code);
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

  /** Tries again after the delay the retry policy asks for, if connected by then. */
  private void retryLater(String path, Code code) {
    var delay = retries.afterFailure();
    if (delay.isEmpty()) {
      giveUp(path, code);
      return;
    }
    cancelPendingRetry();
    pendingRetry =
        loop.schedule(
            () -> {
              pendingRetry = null;
              if (client.getZookeeperClient().isConnected()) {
                attempt();
              }
            },
            delay.getAsLong());
  }

  /**
   * The retry policy allows no more attempts. Before start() completed, start fails and the member
   * closes (as on the start timeout); later, the next connection state change starts over.
   */
  private void giveUp(String path, Code code) {
    var message =
        "member '"
            + settings.memberId()
            + "' could not register at "
            + path
            + " ("
            + code
            + "): retryPolicy allowed no more attempts after "
            + retries.attempts();
    if (!started.isDone()) {
      log.error(message);
      started.completeExceptionally(new IllegalStateException(message));
      closeMembership.run();
    } else {
      log.error("{}; registering again when the connection changes", message);
    }
  }

  private void cancelPendingRetry() {
    if (pendingRetry != null) {
      pendingRetry.cancel(false);
      pendingRetry = null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: what the group watcher reads

  @Override
  public void listRead(int request, List<String> children) {
    if (request >= ownZnodeVisibleFrom) {
      checkOwnZnode(children);
    }
    checkTwins();
    maybeVerify();
  }

  @Override
  public void memberRead() {
    checkTwins();
    maybeVerify();
  }

  /** The lease may hold now (a heartbeat was answered). */
  void leaseRenewed() {
    maybeVerify();
  }

  /**
   * If this node's own znode is missing from a fresh list while its session is fine (someone
   * deleted it), it is no longer a member: stop writing and register again.
   */
  private void checkOwnZnode(List<String> children) {
    var reg = registration;
    if (reg == null || group.resyncing() || children.contains(reg.name())) {
      return;
    }
    log.warn("Registration znode {} of {} vanished; registering again", reg.path(), reg.member());
    registration = null;
    verified = false;
    writableSession = 0;
    backOffAfterLoss();
    events.publish(new ConnectionChanged(ConnectionState.LOST, self));
    register();
  }

  /**
   * A registration becomes writable once a member list read after it is fully read, no newer twin
   * was in it, and its session holds the lease. Then start() completes (first registration) or
   * REREGISTERED is reported (later ones).
   */
  private void maybeVerify() {
    var reg = registration;
    if (reg == null
        || verified
        || superseded
        || !group.fullyRead(ownZnodeVisibleFrom)
        || !lease.holds(reg.sessionId())) {
      return;
    }
    verified = true;
    writableSession = reg.sessionId();
    if (!started.isDone()) {
      started.complete(self);
    } else {
      events.publish(new ConnectionChanged(ConnectionState.REREGISTERED, self));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: twins

  /** Reacts to every other live incarnation of this member id that the group view holds. */
  private void checkTwins() {
    if (registration == null || superseded) {
      return;
    }
    var newer = newerTwin();
    if (newer != null) {
      supersede(newer);
      return;
    }
    for (var twin : group.incarnationsOf(settings.memberId())) {
      if (!ownNames.contains(twin.name()) && twinsWarnedAbout.add(twin.name())) {
        log.warn(
            "Member id '{}' has two live incarnations: {} (this one, on {}, a process first"
                + " registered at epoch {}) and {} (on {}, a process first registered at epoch"
                + " {}). This process came later and wins; the older one stops writing and removes"
                + " itself. Give every member a unique id, and check for a replaced pod or process"
                + " that still runs.",
            settings.memberId(),
            self.writerId(),
            settings.host(),
            processEpoch,
            twin.member().writerId(),
            twin.member().host(),
            twin.since());
      }
    }
  }

  /**
   * A live incarnation of this member id from a process whose first registration came after this
   * process's, or null. Never before this process has registered once.
   */
  private GroupView.Incarnation newerTwin() {
    if (processEpoch == 0) {
      return null;
    }
    for (var twin : group.incarnationsOf(settings.memberId())) {
      if (!ownNames.contains(twin.name()) && twin.since() > processEpoch) {
        return twin;
      }
    }
    return null;
  }

  /**
   * A newer incarnation of this member id is live: this one stops writing for good, reports {@code
   * SUPERSEDED}, deletes its znode (peers see it go down with {@code EXPIRED}: it stopped without
   * handing anything over, as after a crash) and never registers again.
   */
  private void supersede(GroupView.Incarnation newer) {
    superseded = true;
    writableSession = 0;
    verified = false;
    cancelPendingRetry();
    if (pendingBackoff != null) {
      pendingBackoff.cancel(false);
      pendingBackoff = null;
    }
    var reg = registration;
    registration = null;
    log.error(
        "Member {} (on {}, a process first registered at epoch {}) is superseded by {} (on {}, a"
            + " process first registered at epoch {}), a later process with member id '{}': this"
            + " one stops writing for good and removes its registration. Give every member a"
            + " unique id, and check for a replaced pod or process that still runs.",
        self == null ? settings.memberId() : self.writerId(),
        settings.host(),
        processEpoch,
        newer.member().writerId(),
        newer.member().host(),
        newer.since(),
        settings.memberId());
    if (reg != null) {
      group.markExpired(reg.name());
      deleteQuietly(reg.path());
    }
    retired.forEach(this::deleteQuietly);
    retired.clear();
    var error =
        new IllegalStateException(
            "member '"
                + settings.memberId()
                + "' was superseded by "
                + newer.member().writerId()
                + ", a newer incarnation of the same member id");
    failAwaitingAnnounces(error);
    started.completeExceptionally(error);
    if (everRegistered) {
      events.publish(new ConnectionChanged(ConnectionState.SUPERSEDED, self));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: announce and leave

  private void announceOnLoop(MemberState state, CompletableFuture<Void> done) {
    if (superseded) {
      done.completeExceptionally(
          new IllegalStateException(
              "member '"
                  + settings.memberId()
                  + "' was superseded by a newer incarnation; cannot announce "
                  + state));
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
                        new Znode(reg.path(), reg.sessionId(), reg.generation(), updated);
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
                  failAwaitingAnnounces(error);
                }
              },
              loop.executor())
          .forPath(reg.path(), MemberData.encode(updated, incarnationOf(reg.path()), sinceOf(reg)));
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
          .inBackground((c, e) -> deleteOwnZnode(reg), loop.executor())
          .forPath(
              reg.path(),
              MemberData.encode(leavingMember, incarnationOf(reg.path()), sinceOf(reg)));
    } catch (Exception e) {
      deleteOwnZnode(reg);
    }
  }

  private void deleteOwnZnode(Znode reg) {
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
              loop.executor())
          .forPath(reg.path());
    } catch (Exception e) {
      leaving.get().completeExceptionally(e);
    }
  }

  private void finishLeave() {
    if (leaving.get().isDone()) {
      return;
    }
    cancelPendingRetry();
    if (pendingBackoff != null) {
      pendingBackoff.cancel(false);
      pendingBackoff = null;
    }
    writableSession = 0;
    verified = false;
    // Znodes of this node's lost sessions that the server may still hold: remove them too.
    retired.forEach(this::deleteQuietly);
    retired.clear();
    if (registration != null) {
      self = registration.member().withState(MemberState.LEAVING);
      registration = null;
    }
    var error = new IllegalStateException("member '" + settings.memberId() + "' has left");
    failAwaitingAnnounces(error);
    started.completeExceptionally(error);
    leaving.get().complete(null);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private void failAwaitingAnnounces(Throwable error) {
    announcesAwaitingRegistration.forEach(f -> f.completeExceptionally(error));
    announcesAwaitingRegistration.clear();
  }

  private void deleteQuietly(String path) {
    try {
      client.delete().inBackground().forPath(path);
    } catch (Exception e) {
      log.debug("Could not delete {}", path, e);
    }
  }

  /** The id of the client's current ZooKeeper session, or -1 if there is none. */
  static long sessionIdOf(CuratorFramework client) {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return -1;
    }
  }

  /** The {@code since} to store in {@code reg}'s payload: 0 for the process's first znode. */
  private long sinceOf(Znode reg) {
    return reg.member().epoch() == processEpoch ? 0 : processEpoch;
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
}
