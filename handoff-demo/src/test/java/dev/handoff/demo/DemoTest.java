package dev.handoff.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The main job at a small size, end to end: embedded Kafka and ZooKeeper in this JVM, every node a
 * JVM of its own, real SIGTERM and SIGKILL. One run rolls three nodes, each another way: node 1 is
 * drained into a surge node, node 2 is killed and its successor adopts the last periodic stashes,
 * node 3 is restarted under its name and its successor adopts the final stashes.
 */
class DemoTest {

  @Test
  void rollingDeployOfThreeNodesLosesNoSessionAndNeverGoesBackOrHostsTwice() {
    var console = new ByteArrayOutputStream();
    DemoOptions options =
        DemoOptions.parse(
            "--nodes",
            "3",
            "--sessions",
            "100",
            "--mode",
            "drain,crash,restart",
            "--warmup-ms",
            "1000",
            "--settle-ms",
            "300");
    Path runDir = Path.of(System.getProperty("java.io.tmpdir"), "demo-test-" + System.nanoTime());

    Report report =
        new Demo(
                options,
                runDir,
                new PrintStream(console, true, StandardCharsets.UTF_8),
                System.getProperty("java.class.path"))
            .run();

    String printed = console.toString(StandardCharsets.UTF_8);
    System.out.print(printed); // into the test's output file, for whoever reads the CI logs
    assertThat(report.lost()).as(printed).isZero();
    assertThat(report.stale()).as(printed).isZero();
    assertThat(report.duplicated()).as(printed).isZero();
    assertThat(report.handedOff()).as(printed).isEqualTo(100);
    assertThat(report.pickupFailures()).as(printed).isZero();
    assertThat(report.crashResumed()).as("sessions of the killed node-2").isEqualTo(33);
    assertThat(report.rolls())
        .extracting(Report.Roll::mode)
        .containsExactly("drain", "crash", "restart");
    assertThat(report.rolls()).allSatisfy(r -> assertThat(r.resumed()).isEqualTo(r.sessions()));
    assertThat(report.rolls())
        .filteredOn(r -> r.mode().equals("restart"))
        .allSatisfy(r -> assertThat(r.finalStashes()).isEqualTo(r.sessions()).isPositive());
    assertThat(report.pauseByMode()).containsOnlyKeys("drain", "restart", "crash");
    // Schema evolution through the topic: v2 read every v1 state with level = its default.
    assertThat(report.v1ToV2()).isEqualTo(100);
    assertThat(report.levelDefaulted()).isEqualTo(100);
    assertThat(report.peeks()).isPositive();
    assertThat(report.decodeErrors()).isZero();
    assertThat(printed).contains("| lost ", "| stale ", "RESULT: PASS");
  }
}
