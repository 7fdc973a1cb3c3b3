package dev.handoff.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.handoff.testkit.FreePorts;
import dev.handoff.testkit.containers.RequiresDocker;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The {@code docker/docker-compose.yml} stack, brought up and checked by {@code
 * scripts/compose-demo.sh}: ZooKeeper and Kafka containers become healthy, the three compose game
 * nodes roll v1 to v2 one container at a time with every session picked up at its stashed tick, and
 * the measured demo run against the stack's Kafka and ZooKeeper reports nothing lost, stale or
 * duplicated. Then the stack is taken down, also when something fails.
 *
 * <p>Runs in {@code mvn verify} after {@code package} (the node image is built from {@code
 * target/handoff-demo.jar} and {@code target/lib}), where a Docker daemon answers and a compose
 * command is installed; the images are those named by {@code HANDOFF_KAFKA_IMAGE}, {@code
 * HANDOFF_ZOOKEEPER_IMAGE} and {@code HANDOFF_JRE_IMAGE} ({@code scripts/docker-local.sh env}),
 * else the public ones. Ports are picked free on 127.0.0.1, and the compose project is named after
 * this JVM, so the run touches no other stack.
 */
@RequiresDocker
class ComposeDemoIT {
  private static final long RUN_TIMEOUT_MINUTES = 10;

  @Test
  void composeStackRollsItsNodesAndTheDemoAgainstItLosesNothing() throws Exception {
    Optional<List<String>> compose = composeCommand();
    assumeTrue(compose.isPresent(), "neither 'docker compose' nor 'docker-compose' is installed");
    Path root = Path.of("").toAbsolutePath().getParent();
    Path runDir = Path.of("target", "compose-it").toAbsolutePath();
    Files.createDirectories(runDir);
    Path output = runDir.resolve("compose-demo.out");
    String project = "handoff-it-" + ProcessHandle.current().pid();
    int[] ports = FreePorts.onLoopback(3);

    var pb = new ProcessBuilder("bash", root.resolve("scripts/compose-demo.sh").toString());
    Map<String, String> env = pb.environment();
    env.put("HANDOFF_COMPOSE", String.join(" ", compose.get()));
    env.put("HANDOFF_COMPOSE_PROJECT", project);
    env.put("HANDOFF_COMPOSE_RUN_DIR", runDir.toString());
    env.put("HANDOFF_KAFKA_PORT", Integer.toString(ports[0]));
    env.put("HANDOFF_KAFKA_CONTROLLER_PORT", Integer.toString(ports[1]));
    env.put("HANDOFF_ZOOKEEPER_PORT", Integer.toString(ports[2]));
    env.put("SESSIONS", "60");
    // The measured demo with two nodes (one SIGTERM, one SIGKILL): DemoTest runs three already.
    env.put("DEMO_ARGS", "--nodes 2 --warmup-ms 1000 --settle-ms 300 --crash-node 2");
    env.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.redirectErrorStream(true).redirectOutput(output.toFile());

    long t0 = System.nanoTime();
    Process script = pb.start();
    int exit;
    try {
      assertThat(script.waitFor(RUN_TIMEOUT_MINUTES, TimeUnit.MINUTES))
          .as("compose-demo.sh finished within %d minutes", RUN_TIMEOUT_MINUTES)
          .isTrue();
      exit = script.exitValue();
    } finally {
      stop(script);
      // The script takes the stack down itself (trap on exit); if it was stopped before it could,
      // this does. Idempotent.
      var down = new ArrayList<>(compose.get());
      down.addAll(
          List.of(
              "-f",
              root.resolve("docker/docker-compose.yml").toString(),
              "-p",
              project,
              "down",
              "-v",
              "--remove-orphans"));
      if (!succeeds(down)) {
        System.err.println("compose test cleanup: '" + String.join(" ", down) + "' failed");
      }
    }
    String printed = Files.readString(output, StandardCharsets.UTF_8);
    System.out.print(printed); // into the test's output file, for whoever reads the CI logs
    System.out.printf(
        "compose test: %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));

    assertThat(exit).as(printed).isZero();
    assertThat(printed)
        .contains("compose roll: PASS")
        .contains("roll 3/3: node-3 v1 -> v2")
        .contains("RESULT: PASS (0 lost, 0 stale, 0 duplicated)")
        .contains("compose-demo: PASS")
        .contains("stack taken down");
  }

  /** {@code HANDOFF_COMPOSE}, else {@code docker compose}, else {@code docker-compose}, if any. */
  private static Optional<List<String>> composeCommand() {
    String configured = System.getenv("HANDOFF_COMPOSE");
    if (configured != null && !configured.isBlank()) {
      return Optional.of(List.of(configured.trim().split("\\s+")));
    }
    for (List<String> candidate :
        List.of(List.of("docker", "compose"), List.of("docker-compose"))) {
      var probe = new ArrayList<>(candidate);
      probe.add("version");
      if (succeeds(probe)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static boolean succeeds(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().transferTo(OutputStream.nullOutputStream());
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Stops the script and whatever it started that still runs (the measured demo's JVMs): SIGTERM
   * first, so they stash, leave and clean up; SIGKILL after 60 s.
   */
  private static void stop(Process script) throws InterruptedException {
    if (!script.isAlive()) {
      return;
    }
    List<ProcessHandle> all = new ArrayList<>(script.descendants().toList());
    all.add(script.toHandle());
    all.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (ProcessHandle h : all) {
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        h.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
  }
}
