package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JvmProcessTest {
  private static final Duration START = Duration.ofSeconds(60);

  private final List<String> lines = new CopyOnWriteArrayList<>();

  private JvmProcess.Builder child(Path dir) {
    return JvmProcess.builder(JvmProcessChild.class)
        .maxHeapMegabytes(64)
        .logFile(dir.resolve("logs/child.log"));
  }

  @Test
  void readyLineArrivesAfterTheChildSawItsPropertyAndVariableAndItAnswersOnStdout(@TempDir Path dir)
      throws Exception {
    try (var p =
        child(dir)
            .systemProperty("jvmprocess.test", "a value")
            .environment("JVMPROCESS_TEST", "from env")
            .onOutputLine(lines::add)
            .readyWhenOutput(line -> line.equals("READY"))
            .start()) {
      assertThat(p.awaitReady(START)).contains("READY");
      assertThat(lines).containsExactly("prop=a value", "env=from env", "READY");

      p.send("echo hello");
      p.send("err to the log");
      await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("hello"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Files.readString(p.logFile()).contains("to the log"));
      assertThat(Files.readString(p.logFile())).doesNotContain("hello");
    }
  }

  @Test
  void sigtermRunsTheChildsShutdownHookAndItsLastOutputIsStillRead(@TempDir Path dir)
      throws Exception {
    var p = child(dir).onOutputLine(lines::add).readyWhenOutput("READY"::equals).start();
    p.awaitReady(START);

    p.sigterm();

    assertThat(p.awaitExit(Duration.ofSeconds(30))).isTrue();
    assertThat(p.isAlive()).isFalse();
    assertThat(lines).endsWith("BYE");
    assertThat(p.exited().join()).isEqualTo(143);
    p.close();
  }

  @Test
  void sigkillRunsNoShutdownHook(@TempDir Path dir) throws Exception {
    var p = child(dir).onOutputLine(lines::add).readyWhenOutput("READY"::equals).start();
    p.awaitReady(START);

    p.sigkill();

    assertThat(p.awaitExit(Duration.ofSeconds(30))).isTrue();
    assertThat(lines).doesNotContain("BYE");
    assertThat(p.exited().join()).isEqualTo(137);
  }

  @Test
  void sigstopFreezesTheChildUntilSigcont(@TempDir Path dir) throws Exception {
    try (var p = child(dir).onOutputLine(lines::add).readyWhenOutput("READY"::equals).start()) {
      p.awaitReady(START);

      p.sigstop();
      await().atMost(Duration.ofSeconds(10)).until(() -> state(p.pid()) == 'T');
      p.send("echo while stopped");
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(2))
          .until(() -> !lines.contains("while stopped"));

      p.sigcont();
      await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("while stopped"));
      assertThat(state(p.pid())).isNotEqualTo('T');
    }
  }

  @Test
  void closeStopsAStoppedChild(@TempDir Path dir) throws Exception {
    var p = child(dir).onOutputLine(lines::add).readyWhenOutput("READY"::equals).start();
    p.awaitReady(START);
    p.sigstop();

    p.close();

    assertThat(p.isAlive()).isFalse();
    assertThat(lines).endsWith("BYE");
    p.close(); // a second close is a no-op
  }

  @Test
  void closeKillsAChildThatIgnoresSigtermAfterTheGrace(@TempDir Path dir) throws Exception {
    var p =
        child(dir)
            .args("ignore-sigterm")
            .shutdownGrace(Duration.ofSeconds(1))
            .readyWhenOutput("READY"::equals)
            .start();
    p.awaitReady(START);

    p.close();

    assertThat(p.isAlive()).isFalse();
    assertThat(p.exited().join()).isEqualTo(137);
  }

  @Test
  void aChildThatExitsBeforeItIsReadyFailsTheWaitWithItsLog(@TempDir Path dir) {
    var p = child(dir).args("fail").readyWhenOutput("READY"::equals).start();

    assertThatThrownBy(() -> p.awaitReady(START))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exited with code 3 before it was ready")
        .hasMessageContaining("boom: asked to fail");
  }

  @Test
  void aChildThatIsNotReadyInTimeIsKilled(@TempDir Path dir) throws Exception {
    var p = child(dir).readyWhen(() -> false).start();

    assertThatThrownBy(() -> p.awaitReady(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("was not ready within PT2S");
    assertThat(p.awaitExit(Duration.ofSeconds(30))).isTrue();
    assertThat(p.exited().join()).isEqualTo(137);
  }

  @Test
  void withoutLineReadingStdoutGoesToTheLogAndACallbackDecidesReadiness(@TempDir Path dir)
      throws Exception {
    Path marker = dir.resolve("started");
    try (var p =
        child(dir)
            .args("marker", marker.toString())
            .readyWhen(() -> Files.exists(marker))
            .start()) {
      assertThat(p.awaitReady(START)).isEmpty();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Files.readString(p.logFile()).contains("READY"));
      p.closeInput(); // the child's loop ends with its input
      assertThat(p.awaitExit(Duration.ofSeconds(30))).isTrue();
      assertThat(p.exited().join()).isZero();
    }
  }

  @Test
  void builderOptionsAreValidatedAtOnceAndSetOnlyOnce(@TempDir Path dir) {
    var b = JvmProcess.builder(JvmProcessChild.class);
    assertThatThrownBy(() -> b.maxHeapMegabytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxHeapMegabytes must be positive, was 0");
    assertThatThrownBy(() -> b.jvmOptions("Xss512k"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jvmOptions");
    assertThatThrownBy(() -> b.shutdownGrace(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("shutdownGrace must be positive, was PT0S");
    b.systemProperty("k", "v");
    assertThatThrownBy(() -> b.systemProperty("k", "w"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("systemProperty k was already set to v");
    b.maxHeapMegabytes(64);
    assertThatThrownBy(() -> b.maxHeapMegabytes(128))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("maxHeapMegabytes was already set to 64");
    assertThatThrownBy(b::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("logFile");
    b.logFile(dir.resolve("x.log")).readyWhen(() -> true).readyWhenOutput(l -> true);
    assertThatThrownBy(b::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("readyWhenOutput")
        .hasMessageContaining("readyWhen");
  }

  /** The state letter of a Linux process ({@code T}: stopped). */
  private static char state(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2);
  }
}
