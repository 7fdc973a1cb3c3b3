package dev.handoff.zk;

import static dev.handoff.zk.Recorder.anyDown;
import static dev.handoff.zk.Recorder.connection;
import static dev.handoff.zk.Recorder.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.Member;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Membership that survives its own node's load (issue 16), against a real ZooKeeper server. */
class ZkMembershipUnderLoadTest {

  private static final Logger log = LoggerFactory.getLogger(ZkMembershipUnderLoadTest.class);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration SESSION = Duration.ofSeconds(4); // Members' default

  private static EmbeddedZooKeeper zk;
  private final Members members = new Members();
  private final String group = "g-" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void startZooKeeper() {
    zk = EmbeddedZooKeeper.start();
  }

  @AfterAll
  static void stopZooKeeper() {
    if (zk != null) {
      zk.close();
    }
  }

  @AfterEach
  void closeMembers() {
    members.close();
  }

  private ZkMembership member(String id) {
    return members.create(zk.connectString(), group, id);
  }

  private static Recorder recorded(ZkMembership m) {
    var r = new Recorder();
    m.subscribe(r);
    return r;
  }

  private static Member started(ZkMembership m) {
    return m.start().orTimeout(20, TimeUnit.SECONDS).join();
  }

  @Test
  void aCpuSaturatedByBusyThreadsForTwiceTheSessionTimeoutDoesNotExpireTheSession() {
    var a = member("a");
    var peer = member("peer");
    var ra = recorded(a);
    var rp = recorded(peer);
    var self = started(a);
    started(peer);
    await().atMost(WAIT).until(() -> rp.has(up(self)));
    long session = a.sessionCredentials().sessionId();

    // Four spinning threads per core, at normal priority, for 2 x the session timeout.
    int spinners = 4 * Runtime.getRuntime().availableProcessors();
    long end = System.nanoTime() + SESSION.multipliedBy(2).toNanos();
    var sink = new AtomicLong();
    var threads = new ArrayList<Thread>();
    for (int i = 0; i < spinners; i++) {
      var t =
          new Thread(
              () -> {
                long x = 1;
                while (System.nanoTime() < end) {
                  for (int k = 0; k < 10_000; k++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                  }
                }
                sink.addAndGet(x);
              },
              "busy-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    var samples = new AtomicInteger();
    var notWritable = new AtomicInteger();
    threads.forEach(Thread::start);
    // Sampled from this (equally starved) thread while the spinners run.
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              samples.incrementAndGet();
              if (!a.writable()) {
                notWritable.incrementAndGet();
              }
              return threads.stream().noneMatch(Thread::isAlive);
            });
    log.info(
        "MEASURE {} busy threads for {} ms: writable() false in {} of {} samples",
        spinners,
        SESSION.multipliedBy(2).toMillis(),
        notWritable.get(),
        samples.get());

    assertThat(ra.has(connection(ConnectionState.LOST))).isFalse();
    assertThat(rp.has(anyDown())).as("the peer never saw the member go").isFalse();
    assertThat(a.sessionCredentials().sessionId()).isEqualTo(session);
    assertThat(a.self()).isEqualTo(self);
    await().atMost(Duration.ofSeconds(5)).until(a::writable);
  }

  @Test
  void aListenerBlockedLongerThanTheSessionTimeoutDelaysNeitherTheSessionNorTheLease()
      throws Exception {
    var a = member("a");
    var ra = recorded(a);
    var threads = ConcurrentHashMap.<String>newKeySet();
    var release = new CountDownLatch(1);
    var blocked = new CountDownLatch(1);
    a.subscribe(
        e -> {
          threads.add(Thread.currentThread().getName());
          if (e instanceof dev.handoff.MemberEvent.MemberUp u && u.member().id().equals("b")) {
            blocked.countDown();
            awaitQuietly(release); // a listener that hangs: events queue up behind it
          }
        });
    started(a);
    var b = member("b");
    started(b);
    assertThat(blocked.await(20, TimeUnit.SECONDS)).isTrue();
    try {
      // Twice the session timeout with the event thread stuck: the session lives and the lease
      // keeps being renewed, since neither depends on that thread.
      await().during(SESSION.multipliedBy(2)).atMost(SESSION.multipliedBy(3)).until(a::writable);
      b.leave().orTimeout(10, TimeUnit.SECONDS).join(); // the loop still works
    } finally {
      release.countDown();
    }
    await().atMost(WAIT).until(() -> ra.has(anyDown()));
    assertThat(ra.has(connection(ConnectionState.LOST))).isFalse();
    assertThat(threads).allMatch(name -> name.startsWith("handoff-zk-events-a"));
  }

  @Test
  void repeatedExpiriesReRegisterAtOnceThenWithAGrowingDelay() {
    var a = member("a");
    var ra = recorded(a);
    started(a);
    for (int i = 1; i <= 3; i++) {
      zk.expireSession(a.curator());
      int expected = i;
      await()
          .atMost(WAIT)
          .until(() -> ra.all(connection(ConnectionState.REREGISTERED)).size() == expected);
    }
    // One expiry may be reported LOST twice (its znode seen gone, then the session): the back-off
    // runs from the first report, so each re-registration is measured from the first LOST after
    // the registration before it.
    var lost = ra.all(connection(ConnectionState.LOST));
    var back = ra.all(connection(ConnectionState.REREGISTERED));
    List<Long> delays = new ArrayList<>();
    Long previous = null;
    for (var reregistered : back) {
      Long after = previous;
      long firstLost =
          lost.stream()
              .mapToLong(Recorder.Seen::nanos)
              .filter(t -> after == null || t - after > 0)
              .findFirst()
              .orElseThrow();
      delays.add(TimeUnit.NANOSECONDS.toMillis(reregistered.nanos() - firstLost));
      previous = reregistered.nanos();
    }
    log.info("MEASURE LOST -> REREGISTERED after 3 quick expiries: {} ms", delays);
    assertThat(delays.get(0)).as("first loss: at once").isLessThan(1_000);
    // (less a few ms: an event is stamped when delivered, just after the back-off started)
    assertThat(delays.get(1)).as("second quick loss: 1 s").isGreaterThanOrEqualTo(980);
    assertThat(delays.get(2)).as("third quick loss: 2 s").isGreaterThanOrEqualTo(1_980);
    assertThat(a.writable()).isTrue();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
