package dev.handoff;

import dev.handoff.internal.crdt.SessionView;
import dev.handoff.spi.Membership;
import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moving sessions between nodes: a drain hands every session this node owns to other members, one
 * transfer per session with many in flight, each session stopped only when its own transfer starts;
 * an adoption claims the sessions of an earlier incarnation of a member once that incarnation is
 * gone. The transfers themselves are {@link OwnershipProtocol#handover}.
 */
final class Handovers<T> {

  private static final Logger log = LoggerFactory.getLogger(StateHandoff.class);

  private final java.util.concurrent.atomic.AtomicLong retries =
      new java.util.concurrent.atomic.AtomicLong();

  /** Claims of drains and adoptions tried again after a transient failure, since start. */
  long retries() {
    return retries.get();
  }

  /** Transfers (or claims) in flight at once in a drain or an adoption. */
  static final int WINDOW = 256;

  private final OwnershipProtocol protocol;
  private final Membership membership;
  private final StateCodec<T> codec;
  private final Executor callbacks;
  private final List<Consumer<Arrival<T>>> arrivalListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean draining;

  Handovers(
      OwnershipProtocol protocol, Membership membership, StateCodec<T> codec, Executor callbacks) {
    this.protocol = protocol;
    this.membership = membership;
    this.codec = codec;
    this.callbacks = callbacks;
  }

  boolean draining() {
    return draining;
  }

  AutoCloseable addArrivalListener(Consumer<Arrival<T>> listener) {
    arrivalListeners.add(listener);
    return () -> arrivalListeners.remove(listener);
  }

  /** A session handed to this node is owned here now: tell the listeners, in order. */
  void arrived(String session, byte[] value, String from) {
    if (arrivalListeners.isEmpty()) {
      return;
    }
    callbacks.execute(
        () -> {
          Arrival<T> a;
          try {
            a = new Arrival<>(session, codec.decode(value), WriterId.fromLog(from));
          } catch (RuntimeException e) {
            log.warn("session '{}' arrived from {} but cannot be decoded", session, from, e);
            return;
          }
          for (var l : arrivalListeners) {
            try {
              l.accept(a);
            } catch (RuntimeException e) {
              log.warn("handover listener failed", e);
            }
          }
        });
  }

  /** Hands one session to the member {@code memberId}; the new owner (this node if kept). */
  CompletableFuture<WriterId> handover(String key, T state, String memberId, Duration timeout) {
    Member target =
        candidates().stream().filter(m -> m.id().equals(memberId)).findFirst().orElse(null);
    if (target == null) {
      return CompletableFuture.failedFuture(
          new HandoffException(
              "cannot hand session '"
                  + key
                  + "' to '"
                  + memberId
                  + "': it is not a RUNNING member other than this node"));
    }
    return protocol
        .handover(key, codec.encode(state), target.writerId(), timeout)
        .thenApply(WriterId::fromLog);
  }

  /** Starts a drain; see {@link StateHandoff#drain}. */
  Drain drain(
      Set<String> owned, HandoverTarget target, Duration budget, SessionMover<T> mover, String me) {
    var drain = new Drain(owned.size());
    draining = true;
    Thread t = new Thread(() -> runDrain(drain, new ArrayList<>(owned), target, budget, mover, me));
    t.setName("handoff-drain");
    t.setDaemon(true);
    t.start();
    return drain;
  }

  private void runDrain(
      Drain drain,
      List<String> keys,
      HandoverTarget target,
      Duration budget,
      SessionMover<T> mover,
      String me) {
    long t0 = System.nanoTime();
    long deadline = t0 + budget.toNanos();
    var window = new Semaphore(WINDOW);
    var inFlight = new AtomicInteger();
    log.info("{} draining {} sessions within {}", me, keys.size(), budget);
    try {
      for (String key : keys) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !window.tryAcquire(left, TimeUnit.NANOSECONDS)) {
          break;
        }
        Optional<Member> to = target.choose(key, candidates());
        if (to.isEmpty()) {
          drain.kept.incrementAndGet(); // nothing stopped: the session simply stays
          window.release();
          continue;
        }
        T state;
        try {
          state = mover.stop(key);
        } catch (RuntimeException e) {
          log.warn("stopping session '{}' for its transfer failed; it stays here", key, e);
          drain.failed.incrementAndGet();
          window.release();
          continue;
        }
        inFlight.incrementAndGet();
        transfer(key, state, to.get(), target, mover, deadline, drain, 1)
            .whenComplete(
                (v, e) -> {
                  inFlight.decrementAndGet();
                  window.release();
                });
      }
      long left = deadline - System.nanoTime();
      window.tryAcquire(WINDOW, Math.max(0, left), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      draining = false;
      var result =
          new Drain.Result(
              drain.moved(),
              drain.kept(),
              drain.failed(),
              drain.remaining(),
              Duration.ofNanos(System.nanoTime() - t0));
      log.info("{} drain over: {}", me, result);
      drain.done.complete(result);
    }
  }

  /** One session's transfer; a refusal tries one other receiver before keeping the session. */
  private CompletableFuture<Void> transfer(
      String key,
      T state,
      Member to,
      HandoverTarget target,
      SessionMover<T> mover,
      long deadline,
      Drain drain,
      int attempt) {
    long left = Math.max(1, deadline - System.nanoTime());
    Duration timeout = Duration.ofNanos(Math.min(left, TimeUnit.SECONDS.toNanos(5)));
    String mine = protocol.self().writerId();
    return protocol
        .handover(key, codec.encode(state), to.writerId(), timeout)
        .handle(
            (owner, e) -> {
              if (e != null) {
                log.warn("the transfer of session '{}' to {} failed", key, to.writerId(), e);
                SessionView now = protocol.index().get(key);
                if (now != null && now.owner().equals(mine)) {
                  // still ours (the handover record never counted): the application resumes it
                  drain.kept.incrementAndGet();
                  callbacks.execute(() -> mover.kept(key, state));
                } else {
                  drain.failed.incrementAndGet();
                }
                return CompletableFuture.<Void>completedFuture(null);
              }
              if (!owner.equals(mine)) {
                drain.moved.incrementAndGet();
                return CompletableFuture.<Void>completedFuture(null);
              }
              if (attempt < 2 && System.nanoTime() < deadline) {
                var others = new ArrayList<>(candidates());
                others.removeIf(m -> m.writerId().equals(to.writerId()));
                Optional<Member> next = target.choose(key, others);
                if (next.isPresent()) {
                  return transfer(key, state, next.get(), target, mover, deadline, drain, 2);
                }
              }
              drain.kept.incrementAndGet();
              callbacks.execute(() -> mover.kept(key, state));
              return CompletableFuture.<Void>completedFuture(null);
            })
        .thenCompose(f -> f);
  }

  /** RUNNING members other than this node (and other incarnations of its member id). */
  List<Member> candidates() {
    Member me = protocol.self();
    var out = new ArrayList<Member>();
    for (Member m : membership.members()) {
      if (m.state() == MemberState.RUNNING && (me == null || !m.id().equals(me.id()))) {
        out.add(m);
      }
    }
    return out;
  }

  /** Starts an adoption; see {@link StateHandoff#adopt}. */
  CompletableFuture<Adoption> adopt(
      String memberId, Duration budget, Consumer<Arrival<T>> onAdopted, SessionIndex index) {
    var result = new CompletableFuture<Adoption>();
    Thread t = new Thread(() -> runAdopt(memberId, budget, onAdopted, index, result));
    t.setName("handoff-adopt-" + memberId);
    t.setDaemon(true);
    t.start();
    return result;
  }

  private void runAdopt(
      String memberId,
      Duration budget,
      Consumer<Arrival<T>> onAdopted,
      SessionIndex index,
      CompletableFuture<Adoption> result) {
    long t0 = System.nanoTime();
    long deadline = t0 + budget.toNanos();
    Member me = protocol.self();
    try {
      // Every earlier incarnation must be gone first: until its session expires it may still write.
      while (earlierIncarnationRegistered(memberId, me)) {
        if (System.nanoTime() > deadline) {
          result.completeExceptionally(
              new HandoffException.Timeout(
                  "an earlier incarnation of '"
                      + memberId
                      + "' is still registered after "
                      + budget
                      + "; its sessions were not adopted"));
          return;
        }
        Thread.sleep(20);
      }
      protocol.barrier().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      var keys = new TreeSet<String>();
      String mine = me.writerId();
      index.forEachLive(
          (k, v) -> {
            if (OwnershipProtocol.memberIdOf(v.owner()).equals(memberId)
                && !v.owner().equals(mine)) {
              keys.add(k);
            }
          });
      var window = new Semaphore(WINDOW);
      var adopted = new AtomicInteger();
      var skipped = new AtomicInteger();
      var failed = new AtomicInteger();
      for (String key : keys) {
        window.acquire();
        claimWithRetries(key, deadline, 0)
            .whenComplete(
                (arrival, e) -> {
                  if (e != null) {
                    failed.incrementAndGet();
                  } else if (arrival.isEmpty()) {
                    skipped.incrementAndGet();
                  } else {
                    adopted.incrementAndGet();
                    callbacks.execute(() -> onAdopted.accept(arrival.get()));
                  }
                  window.release();
                });
      }
      window.acquire(WINDOW);
      var r =
          new Adoption(
              adopted.get(), skipped.get(), failed.get(), Duration.ofNanos(System.nanoTime() - t0));
      log.info("{} adopted the sessions of {}: {}", mine, memberId, r);
      callbacks.execute(() -> result.complete(r));
    } catch (Exception e) {
      result.completeExceptionally(e);
    }
  }

  private boolean earlierIncarnationRegistered(String memberId, Member me) {
    for (Member m : membership.members()) {
      if (m.id().equals(memberId) && !m.writerId().equals(me.writerId())) {
        return true;
      }
    }
    return false;
  }

  private CompletableFuture<Optional<Arrival<T>>> claimWithRetries(
      String key, long deadline, int attempt) {
    SessionView before = protocol.index().get(key);
    String from = before == null ? "?" : before.owner();
    return protocol
        .onSession(key, () -> protocol.pickup(key))
        .handle(
            (value, e) -> {
              if (e == null) {
                return CompletableFuture.completedFuture(
                    value.map(v -> new Arrival<>(key, codec.decode(v), WriterId.fromLog(from))));
              }
              Throwable cause = e.getCause() != null ? e.getCause() : e;
              if (cause instanceof HandoffException.OwnedElsewhere) {
                return CompletableFuture.completedFuture(Optional.<Arrival<T>>empty());
              }
              if (attempt < 5 && System.nanoTime() < deadline) {
                retries.incrementAndGet();
                long delay = 50L << attempt;
                return CompletableFuture.supplyAsync(
                        () -> null, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS))
                    .thenCompose(x -> claimWithRetries(key, deadline, attempt + 1));
              }
              return CompletableFuture.<Optional<Arrival<T>>>failedFuture(cause);
            })
        .thenCompose(f -> f);
  }
}
