package dev.handoff;

import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberChanged;
import dev.handoff.MemberEvent.MemberDown;
import dev.handoff.MemberEvent.MemberUp;
import dev.handoff.spi.Membership;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Membership} kept in memory, for unit tests of code built on Handoff. Members of one
 * {@link Cluster} see each other; each instance delivers its events in order on its own event
 * thread. {@link Cluster#expire} plays a member whose session expired (a crash or a long pause);
 * {@link Cluster#expireUnnoticed} and {@link Cluster#notice} play a paused member that has not
 * noticed its expiry yet (a zombie); starting a second member with the id of a live one plays twins
 * (the older is {@linkplain ConnectionState#SUPERSEDED superseded}). There are no sessions and so
 * no lease: {@link #writable()} changes only through these events.
 *
 * <p>Thread-safe. Epochs come from one counter per cluster, so they only grow, like ZooKeeper's
 * {@code czxid}.
 */
public final class InMemoryMembership implements Membership {

  private static final Logger log = LoggerFactory.getLogger(InMemoryMembership.class);
  private static final AtomicInteger THREAD_IDS = new AtomicInteger();
  private static final Comparator<Member> ORDER =
      Comparator.comparing(Member::id).thenComparingLong(Member::epoch);

  /** The shared "ZooKeeper": the registry that several members join. */
  public static final class Cluster {
    private final TreeMap<String, InMemoryMembership> registered = new TreeMap<>();
    private long lastEpoch;

    /**
     * A new, not yet started incarnation of member {@code id}. If another incarnation of {@code id}
     * is still registered when this one starts, that older one is superseded (as twins are on
     * ZooKeeper): it gets {@code ConnectionChanged(SUPERSEDED)}, is no longer writable, and peers
     * see it go down with {@code EXPIRED}.
     */
    public InMemoryMembership member(String id) {
      return member(id, "localhost", "test");
    }

    public InMemoryMembership member(String id, String host, String version) {
      Objects.requireNonNull(id, "id");
      if (id.isEmpty() || id.contains("#")) {
        throw new IllegalArgumentException("member id must be non-empty and without '#': " + id);
      }
      return new InMemoryMembership(this, id, host, version);
    }

    /** The members registered now, ordered by id then epoch. */
    public synchronized List<Member> members() {
      var all = new ArrayList<Member>();
      registered.values().forEach(m -> all.add(m.current));
      all.sort(ORDER);
      return all;
    }

    /**
     * Expires {@code member}'s registration as ZooKeeper would after its session timeout: peers see
     * {@code MemberDown(EXPIRED)}, the member itself {@code ConnectionChanged(LOST)} and stops
     * being writable.
     */
    public synchronized void expire(InMemoryMembership member) {
      if (member.expiredUnnoticed) {
        notice(member);
        return;
      }
      if (member.current == null || registered.remove(member.current.writerId()) == null) {
        return;
      }
      member.lost = true;
      member.post(new ConnectionChanged(ConnectionState.LOST, member.current));
      broadcast(new MemberDown(member.current, DownReason.EXPIRED), member);
    }

    /**
     * Plays a paused process whose session expired on the server while it has not noticed yet (a
     * zombie): peers see {@code MemberDown(EXPIRED)} at once, but {@code member} gets no event and
     * stays {@link #writable()} until {@link #notice} is called. Its {@code announce} fails (the
     * server refuses it). This is the window that the lease behind {@code writable()} closes in
     * real deployments ({@code ZkMembership} stops being writable before the session can have
     * expired); code above the membership must still fence a zombie's writes through the log. Does
     * nothing if {@code member} is not registered.
     */
    public synchronized void expireUnnoticed(InMemoryMembership member) {
      if (member.current == null || registered.remove(member.current.writerId()) == null) {
        return;
      }
      member.expiredUnnoticed = true;
      broadcast(new MemberDown(member.current, DownReason.EXPIRED), member);
    }

    /**
     * The zombie of {@link #expireUnnoticed} notices that its session is gone: it gets {@code
     * ConnectionChanged(LOST)} and is no longer writable. Does nothing for any other member.
     */
    public synchronized void notice(InMemoryMembership member) {
      if (!member.expiredUnnoticed) {
        return;
      }
      member.expiredUnnoticed = false;
      member.lost = true;
      member.post(new ConnectionChanged(ConnectionState.LOST, member.current));
    }

    private synchronized Member register(InMemoryMembership m) {
      Member self = new Member(m.id, ++lastEpoch, m.host, m.version, MemberState.STARTING);
      for (var older : List.copyOf(registered.values())) {
        if (older.id.equals(m.id)) {
          supersede(older, self);
        }
      }
      m.current = self;
      registered.put(self.writerId(), m);
      var snapshot = members();
      m.post(() -> snapshot.forEach(x -> m.view.put(x.writerId(), x)));
      broadcast(new MemberUp(self), m);
      return self;
    }

    /** Twins: the newest incarnation of a member id wins, the older one stops for good. */
    private void supersede(InMemoryMembership older, Member newer) {
      registered.remove(older.current.writerId());
      older.superseded = true;
      log.warn(
          "member id '{}' has two live incarnations: {} (newer, wins) and {} (older, superseded:"
              + " it stops writing for good)",
          newer.id(),
          newer.writerId(),
          older.current.writerId());
      older.post(new ConnectionChanged(ConnectionState.SUPERSEDED, older.current));
      broadcast(new MemberDown(older.current, DownReason.EXPIRED), older);
    }

    private synchronized void change(InMemoryMembership m, MemberState state) {
      if (!registered.containsKey(m.current.writerId())) {
        throw new IllegalStateException("member " + m.current.writerId() + " is not registered");
      }
      Member before = m.current;
      m.current = before.withState(state);
      var event = new MemberChanged(before, m.current);
      m.post(event);
      broadcast(event, m);
    }

    private synchronized void deregister(InMemoryMembership m, DownReason reason) {
      if (m.current != null && registered.remove(m.current.writerId()) != null) {
        broadcast(new MemberDown(m.current, reason), m);
      }
    }

    private void broadcast(MemberEvent event, InMemoryMembership except) {
      registered
          .values()
          .forEach(
              x -> {
                if (x != except) {
                  x.post(event);
                }
              });
    }
  }

  private final Cluster cluster;
  private final String id;
  private final String host;
  private final String version;
  private final ExecutorService events;
  private final List<Consumer<MemberEvent>> listeners = new CopyOnWriteArrayList<>();
  // Touched only on the event thread.
  private final TreeMap<String, Member> view = new TreeMap<>();
  private volatile List<Member> members = List.of();
  private volatile Member current;
  private CompletableFuture<Member> started; // guarded by the cluster's monitor
  private volatile boolean lost;
  private volatile boolean expiredUnnoticed;
  private volatile boolean superseded;
  private volatile boolean left;
  private volatile boolean closed;

  private InMemoryMembership(Cluster cluster, String id, String host, String version) {
    this.cluster = cluster;
    this.id = id;
    this.host = Objects.requireNonNull(host, "host");
    this.version = Objects.requireNonNull(version, "version");
    this.events =
        Executors.newSingleThreadExecutor(
            r -> {
              var t = new Thread(r, "handoff-inmemory-membership-" + THREAD_IDS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public CompletableFuture<Member> start() {
    synchronized (cluster) {
      if (started != null) {
        return started;
      }
      if (closed) {
        return CompletableFuture.failedFuture(new IllegalStateException("membership is closed"));
      }
      Member self = cluster.register(this);
      var registered = new CompletableFuture<Member>();
      started = registered;
      post(() -> registered.complete(self));
      return registered;
    }
  }

  @Override
  public Member self() {
    Member m = current;
    if (m == null) {
      throw new IllegalStateException("membership of '" + id + "' is not started");
    }
    return m;
  }

  @Override
  public CompletableFuture<Void> announce(MemberState state) {
    Objects.requireNonNull(state, "state");
    try {
      cluster.change(this, state);
      return CompletableFuture.completedFuture(null);
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public List<Member> members() {
    return members;
  }

  /**
   * True once started, until {@code LOST}, {@code SUPERSEDED}, {@link #leave()} or {@link
   * #close()}; also while expired unnoticed (see {@link Cluster#expireUnnoticed}).
   */
  @Override
  public boolean writable() {
    return current != null && !lost && !superseded && !left && !closed;
  }

  @Override
  public AutoCloseable subscribe(Consumer<MemberEvent> listener) {
    Objects.requireNonNull(listener, "listener");
    post(
        () -> {
          view.values().forEach(m -> deliver(listener, new MemberUp(m)));
          listeners.add(listener);
        });
    return () -> listeners.remove(listener);
  }

  @Override
  public CompletableFuture<Void> leave() {
    synchronized (cluster) {
      if (expiredUnnoticed) {
        cluster.notice(this); // the leave's first write finds the session gone
      }
      if (left || current == null || lost || superseded) {
        return CompletableFuture.completedFuture(null);
      }
      cluster.change(this, MemberState.LEAVING);
      left = true;
      cluster.deregister(this, DownReason.LEFT);
      var done = new CompletableFuture<Void>();
      post(() -> done.complete(null));
      return done;
    }
  }

  @Override
  public void close() {
    synchronized (cluster) {
      if (closed) {
        return;
      }
      closed = true;
      cluster.deregister(this, DownReason.EXPIRED);
    }
    events.shutdown();
  }

  private void post(MemberEvent event) {
    post(
        () -> {
          if (event instanceof MemberUp up) {
            view.put(up.member().writerId(), up.member());
          } else if (event instanceof MemberDown down) {
            view.remove(down.member().writerId());
          } else if (event instanceof MemberChanged ch) {
            view.put(ch.after().writerId(), ch.after());
          }
          listeners.forEach(l -> deliver(l, event));
        });
  }

  private void post(Runnable task) {
    try {
      events.execute(
          () -> {
            task.run();
            var snapshot = new ArrayList<>(view.values());
            snapshot.sort(ORDER);
            members = List.copyOf(snapshot);
          });
    } catch (RejectedExecutionException e) {
      // closed: a closed member hears nothing more
    }
  }

  private static void deliver(Consumer<MemberEvent> listener, MemberEvent event) {
    try {
      listener.accept(event);
    } catch (RuntimeException e) {
      log.warn("membership listener failed on {}; continuing", event, e);
    }
  }

  @Override
  public String toString() {
    Member m = current;
    return "InMemoryMembership[" + (m == null ? id + " (not started)" : m.writerId()) + "]";
  }
}
