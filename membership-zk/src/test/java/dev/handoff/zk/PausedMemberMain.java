package dev.handoff.zk;

import dev.handoff.MemberEvent.ConnectionChanged;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.retry.RetryNTimes;

/**
 * A member in a JVM of its own, for {@link PausedProcessTest}: it registers, then watches its own
 * clock for pauses (a {@code SIGSTOP}) and prints, one line per fact on stdout:
 *
 * <ul>
 *   <li>{@code READY <writerId>} once started;
 *   <li>{@code EVENT <state> <nanoTime>} for each {@code ConnectionChanged} it is told;
 *   <li>{@code RESUMED <nanoTime> <gapMillis> <writable> <eventsDuringGap>} when its watch loop
 *       runs again after a gap longer than half a second: {@code writable} is read first thing
 *       after the gap, and {@code eventsDuringGap} counts the membership events delivered between
 *       the last check before the gap and that read.
 * </ul>
 *
 * Arguments: connect string, group, member id, session timeout in milliseconds.
 */
public final class PausedMemberMain {

  private static final long GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private PausedMemberMain() {}

  public static void main(String[] args) throws Exception {
    var events = new AtomicLong();
    var m =
        ZkMembership.builder()
            .connectString(args[0])
            .root("/handoff-test")
            .group(args[1])
            .memberId(args[2])
            .host("127.0.0.1")
            .version("1.0")
            .sessionTimeout(Duration.ofMillis(Long.parseLong(args[3])))
            .connectionTimeout(Duration.ofSeconds(2))
            .retryPolicy(new RetryNTimes(30, 100))
            .digestAuth("handoff", "secret")
            .build();
    m.subscribe(
        e -> {
          events.incrementAndGet();
          if (e instanceof ConnectionChanged c) {
            say("EVENT " + c.state() + " " + System.nanoTime());
          }
        });
    var self = m.start().get(30, TimeUnit.SECONDS);
    say("READY " + self.writerId());

    Thread.currentThread().setPriority(Thread.MAX_PRIORITY);
    long last = System.nanoTime();
    long eventsBefore = events.get();
    while (true) {
      TimeUnit.MILLISECONDS.sleep(5); // the watch loop's tick: a pause shows as a long gap
      long now = System.nanoTime();
      boolean writable = m.writable();
      long seen = events.get();
      if (now - last > GAP_NANOS) {
        say(
            "RESUMED "
                + now
                + " "
                + TimeUnit.NANOSECONDS.toMillis(now - last)
                + " "
                + writable
                + " "
                + (seen - eventsBefore));
      }
      last = now;
      eventsBefore = seen;
    }
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
