package dev.handoff.zk;

import static dev.handoff.zk.Recorder.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.MemberEvent;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberEvent.MemberDown;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member in its own JVM ({@link PausedMemberMain}) stopped with {@code SIGSTOP} past its session
 * timeout, then continued: the lease makes it unwritable from the first instant it runs again,
 * before Curator or ZooKeeper report anything.
 */
class PausedProcessTest {

  private static final Logger log = LoggerFactory.getLogger(PausedProcessTest.class);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long SESSION_MILLIS = 2_000;

  private static EmbeddedZooKeeper zk;
  private final Members members = new Members();
  private final String group = "g-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private Process child;

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
  void stop() {
    if (child != null) {
      child.destroyForcibly(); // SIGKILL also ends a stopped process
    }
    members.close();
  }

  @Test
  void afterAPauseLongerThanTheLeaseTheProcessIsNotWritableFromTheFirstInstantItRunsAgain()
      throws Exception {
    assumeThat(Files.isExecutable(Path.of("/bin/kill"))).as("needs kill(1)").isTrue();
    var watcher = members.create(zk.connectString(), group, "watcher");
    var seen = new Recorder();
    watcher.subscribe(seen);
    watcher.start().orTimeout(20, TimeUnit.SECONDS).join();

    child = launch("paused");
    var writerId = awaitLine(l -> l.startsWith("READY ")).substring(6);
    await().atMost(WAIT).until(() -> seen.has(up("paused")));

    signal("STOP");
    long stopped = System.nanoTime();
    // The server expires the paused session; peers see it go.
    Predicate<MemberEvent> pausedDown =
        e -> e instanceof MemberDown d && d.member().writerId().equals(writerId);
    await().atMost(WAIT).until(() -> seen.has(pausedDown));
    assertThat(seen.first(pausedDown).map(s -> ((MemberDown) s.event()).reason()).orElseThrow())
        .isEqualTo(DownReason.EXPIRED);
    signal("CONT");
    log.info(
        "MEASURE SIGSTOP -> MemberDown(EXPIRED) on a peer: {} ms (session timeout {} ms)",
        TimeUnit.NANOSECONDS.toMillis(seen.first(pausedDown).orElseThrow().nanos() - stopped),
        SESSION_MILLIS);

    var resumed = awaitLine(l -> l.startsWith("RESUMED ")).split(" ");
    long resumedAt = Long.parseLong(resumed[1]);
    long gapMillis = Long.parseLong(resumed[2]);
    boolean writable = Boolean.parseBoolean(resumed[3]);
    long eventsDuringGap = Long.parseLong(resumed[4]);
    log.info(
        "MEASURE paused {} ms; first check after SIGCONT: writable={}, membership events before it:"
            + " {}",
        gapMillis,
        writable,
        eventsDuringGap);
    // Paused until the server expired the session: longer than the lease, at the least.
    assertThat(gapMillis).isGreaterThan(Lease.length(Duration.ofMillis(SESSION_MILLIS)).toMillis());
    assertThat(writable).as("writable() at the first instant after the pause").isFalse();
    assertThat(eventsDuringGap).as("no membership event came before that check").isZero();

    // Curator reports the loss only afterwards, and the member then registers anew.
    long lostAt = Long.parseLong(awaitLine(l -> l.startsWith("EVENT LOST ")).split(" ")[2]);
    assertThat(lostAt).isGreaterThan(resumedAt);
    awaitLine(l -> l.startsWith("EVENT REREGISTERED "));
  }

  private Process launch(String id) throws IOException {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx64m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(PausedMemberMain.class.getName());
    cmd.add(zk.connectString());
    cmd.add(group);
    cmd.add(id);
    cmd.add(Long.toString(SESSION_MILLIS));
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    var reader =
        new Thread(
            () -> {
              try (var in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "paused-member-output");
    reader.setDaemon(true);
    reader.start();
    return p;
  }

  private String awaitLine(Predicate<String> p) {
    await().atMost(WAIT).until(() -> firstLine(p).isPresent() || !child.isAlive());
    return firstLine(p)
        .orElseThrow(() -> new AssertionError("the member process exited; its output: " + lines));
  }

  private Optional<String> firstLine(Predicate<String> p) {
    return lines.stream().filter(p).findFirst();
  }

  private void signal(String name) throws Exception {
    var kill = new ProcessBuilder("/bin/kill", "-" + name, Long.toString(child.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -%s", name).isZero();
  }
}
