package dev.handoff.demo;

import dev.handoff.testkit.EmbeddedEnvironment;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;

/**
 * The main job: a game cluster doing a rolling deploy, in one command.
 *
 * <p>Starts ZooKeeper and Kafka (embedded in this JVM, unless {@code --kafka}/{@code --zookeeper}
 * name existing servers), starts the nodes at version v1 (each a {@link GameNode} in its own JVM)
 * hosting the sessions, lets them play, then replaces every node by a v2 node, one at a time, while
 * the sessions keep ticking. In drain mode (the default, a Deployment with a surge) the new node
 * starts first with a member id of its own, then the old one gets SIGTERM and hands each session
 * over; in restart mode (a StatefulSet) the old one gets SIGTERM and stashes its sessions, then a
 * node with its member id starts and adopts them; in crash mode the old one gets SIGKILL and a node
 * with its member id adopts the last stashed states. Meanwhile a status line shows the progress; at
 * the end a report table says how many sessions were handed off, lost, stale or duplicated and how
 * long each one paused. Exit code: 0 if nothing was lost, stale or duplicated, 1 if something was,
 * 2 if the run itself failed.
 */
public final class Demo {
  private static final Duration NODE_START_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration STEP_TIMEOUT = Duration.ofMinutes(2);

  private final DemoOptions options;
  private final Path runDir;
  private final PrintStream console;
  private final String classpath;
  private final List<NodeProcess> processes = new CopyOnWriteArrayList<>();

  Demo(DemoOptions options, Path runDir, PrintStream console, String classpath) {
    this.options = options;
    this.runDir = runDir;
    this.console = console;
    this.classpath = classpath;
  }

  public static void main(String[] argv) {
    DemoOptions options;
    try {
      options = DemoOptions.parse(argv);
    } catch (NodeSettings.HelpRequested h) {
      System.out.print(h.getMessage());
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("handoff-demo: " + e.getMessage());
      System.err.print(DemoOptions.USAGE);
      System.exit(2);
      return;
    }
    PrintStream console = System.out;
    int code;
    try {
      Path runDir = options.runDir() != null ? options.runDir() : defaultRunDir();
      Files.createDirectories(runDir);
      // Library logs (embedded Kafka and ZooKeeper, Handoff) go to a file; the console shows
      // progress and the report only.
      var logFile =
          new PrintStream(
              new FileOutputStream(runDir.resolve("demo.log").toFile(), true),
              true,
              StandardCharsets.UTF_8);
      System.setOut(logFile);
      System.setErr(logFile);
      try {
        Report report =
            new Demo(options, runDir, console, System.getProperty("java.class.path")).run();
        code = report.passed() ? 0 : 1;
      } catch (RuntimeException e) {
        e.printStackTrace(logFile);
        console.println();
        console.println("handoff-demo failed: " + e.getMessage());
        console.println("logs: " + runDir);
        code = 2;
      }
    } catch (IOException e) {
      console.println("handoff-demo: cannot create the run directory: " + e);
      code = 2;
    }
    System.exit(code);
  }

  /**
   * Runs the demo in this JVM and returns its report, for a caller such as a benchmark; {@code java
   * -jar handoff-demo.jar} does the same through {@link #main}. Each node is a JVM of its own
   * started with this JVM's {@code java} and class path ({@code java.class.path}), which must hold
   * {@link GameNode} and its dependencies (a shaded jar holding this module does). The live
   * progress and the report table are printed to {@code console}; node logs go to {@code runDir}
   * (created if missing). Unlike {@link #main}, this leaves {@code System.out} and {@code
   * System.err} alone. Blocks until every node it started has exited; not for concurrent use within
   * one second on the same Kafka (topic names carry the time in seconds).
   *
   * @return the report, whether or not it {@linkplain Report#passed() passed}
   * @throws IllegalStateException if the run itself failed (a node did not start or exited, a step
   *     timed out); the nodes it started are stopped first
   * @throws java.io.UncheckedIOException if {@code runDir} cannot be created
   */
  public static Report run(DemoOptions options, Path runDir, PrintStream console) {
    try {
      Files.createDirectories(runDir);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot create the run directory " + runDir, e);
    }
    return new Demo(options, runDir, console, System.getProperty("java.class.path")).run();
  }

  /** Runs the whole scenario and prints the report; returns it. */
  Report run() {
    long t0 = System.nanoTime();
    var ledger = new Ledger(options.sessions());
    String scenario = scenario();
    console.println("Handoff demo: " + scenario);
    console.println("node logs: " + runDir);
    Thread cleanup = new Thread(this::killAll, "demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    EmbeddedEnvironment env = null;
    Map<String, List<String>> hostedAtEnd = new HashMap<>();
    var replacements = new ArrayList<Ledger.Replacement>();
    try (var display =
        new ProgressDisplay(console, ledger, options.sessions(), System.console() != null)) {
      String kafka = options.kafka();
      String zookeeper = options.zookeeper();
      if (options.embedded()) {
        display.phase("environment: starting embedded ZooKeeper and Kafka", null, null);
        env =
            EmbeddedEnvironment.builder()
                .kafkaBrokers(1)
                .zookeeperServers(1)
                .baseDir(runDir)
                .start();
        kafka = env.bootstrapServers();
        zookeeper = env.zookeeperConnect();
      }
      display.note("Kafka " + kafka + ", ZooKeeper " + zookeeper);
      String topic =
          "handoff-demo-"
              + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));

      display.phase(
          "start: " + options.nodes() + " nodes at v1, " + options.sessions() + " sessions",
          null,
          null);
      var current = new ArrayList<NodeProcess>();
      for (int i = 1; i <= options.nodes(); i++) {
        current.add(
            launch(
                settings(kafka, zookeeper, topic, i, "node-" + i, GameSchemas.V1, true), ledger));
      }
      for (NodeProcess p : current) {
        p.awaitReady(NODE_START_TIMEOUT);
      }
      await(
          "every session is created and hosted",
          STEP_TIMEOUT,
          () -> ledger.hosted() == options.sessions(),
          current);
      display.note("all " + options.sessions() + " sessions are playing");

      display.phase("play: sessions tick and stash before the deploy", null, null);
      long warmupEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.warmupMillis());
      await(
          "every session has a periodic stash",
          STEP_TIMEOUT,
          () -> System.nanoTime() >= warmupEnd && ledger.everySessionStashedPeriodically(),
          current);

      for (int i = 1; i <= options.nodes(); i++) {
        NodeProcess old = current.get(i - 1);
        String mode = options.mode(i);
        display.phase(
            String.format(
                Locale.ROOT,
                "roll %d/%d: %s v1 -> v2 (%s)",
                i,
                options.nodes(),
                old.memberId(),
                describe(mode)),
            old,
            null);
        NodeProcess replacement = roll(old, mode, i, kafka, zookeeper, topic, ledger, display);
        replacements.add(new Ledger.Replacement(old, replacement, mode));
        current.set(i - 1, replacement);
        long settleEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.settleMillis());
        await("sessions keep playing", STEP_TIMEOUT, () -> System.nanoTime() >= settleEnd, current);
      }

      display.phase("verify: asking every node what it hosts", null, null);
      for (NodeProcess p : current) {
        for (String entry : p.list(Duration.ofSeconds(30)).sessions()) {
          String session = entry.substring(0, entry.indexOf(':'));
          hostedAtEnd.computeIfAbsent(session, k -> new ArrayList<>()).add(p.writerId());
        }
      }
      ledger.freeze();
      display.phase("stop: SIGTERM to every node", null, null);
      for (NodeProcess p : current) {
        p.sigterm();
      }
      for (NodeProcess p : current) {
        p.awaitExit(STEP_TIMEOUT);
      }
      if (!options.embedded()) {
        deleteTopic(kafka, topic);
      }
    } finally {
      killAll();
      if (env != null) {
        env.close();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // already shutting down
      }
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
    Report report = ledger.report(scenario, hostedAtEnd, replacements, elapsed);
    console.println();
    console.print(report.table());
    for (String f : ledger.pickupFailures()) {
      console.println("pickup failed: " + f);
    }
    for (String f : ledger.stashFailureSamples()) {
      console.println("stash failed: " + f);
    }
    console.flush();
    return report;
  }

  /**
   * Replaces {@code old} (node {@code index}) by a v2 node the way {@code mode} says, and waits
   * until every session it hosted runs elsewhere. Returns the new node.
   */
  private NodeProcess roll(
      NodeProcess old,
      String mode,
      int index,
      String kafka,
      String zookeeper,
      String topic,
      Ledger ledger,
      ProgressDisplay display) {
    NodeProcess replacement;
    if (mode.equals("drain")) {
      // A Deployment's surge: the new pod (a new member id) runs before the old one is stopped.
      String surgeId = "node-" + (options.nodes() + index);
      replacement =
          launch(settings(kafka, zookeeper, topic, index, surgeId, GameSchemas.V2, false), ledger);
      display.replacement(replacement);
      replacement.awaitReady(NODE_START_TIMEOUT);
      display.note(
          String.format(
              Locale.ROOT,
              "%s is ready (started and replayed the log in %.1f s); SIGTERM to %s",
              replacement.writerId(),
              replacement.startMillis() / 1000.0,
              old.writerId()));
      ledger.signalled(old, mode);
      old.sigterm();
    } else {
      // A StatefulSet's pod (or a crashed process) comes back under its name once the old is gone.
      display.note((mode.equals("crash") ? "SIGKILL" : "SIGTERM") + " to " + old.writerId());
      ledger.signalled(old, mode);
      if (mode.equals("crash")) {
        old.sigkill();
      } else {
        old.sigterm();
      }
      old.awaitExit(STEP_TIMEOUT);
      replacement =
          launch(
              settings(kafka, zookeeper, topic, index, old.memberId(), GameSchemas.V2, false),
              ledger);
      display.replacement(replacement);
      replacement.awaitReady(NODE_START_TIMEOUT);
      display.note(
          String.format(
              Locale.ROOT,
              "%s is ready (started and replayed the log in %.1f s); it adopts the sessions of %s",
              replacement.writerId(),
              replacement.startMillis() / 1000.0,
              old.writerId()));
    }
    int expected = ledger.hostingAtSignal(old);
    try {
      await(
          "the " + expected + " sessions of " + old.writerId() + " run elsewhere",
          STEP_TIMEOUT,
          () -> ledger.handedOn(old) >= expected,
          List.of(replacement));
    } catch (IllegalStateException e) {
      if (!replacement.isAlive()) {
        throw e;
      }
      display.note(e.getMessage() + ": carrying on, the report counts what is missing");
    }
    old.awaitExit(STEP_TIMEOUT);
    long rollMs = (GameNode.micros() - old.signalledMicros()) / 1000;
    display.note(
        String.format(
            Locale.ROOT,
            "%d of the %d sessions of %s run elsewhere, %d ms after the signal",
            ledger.handedOn(old),
            expected,
            old.writerId(),
            rollMs));
    return replacement;
  }

  private static String describe(String mode) {
    return switch (mode) {
      case "drain" -> "drain: surge node, then SIGTERM";
      case "restart" -> "restart: SIGTERM, then the same member id adopts";
      default -> "crash: SIGKILL, then the same member id adopts";
    };
  }

  private NodeSettings settings(
      String kafka,
      String zookeeper,
      String topic,
      int index,
      String memberId,
      String version,
      boolean create) {
    return new NodeSettings(
        kafka,
        zookeeper,
        topic,
        options.partitions(),
        options.replicationFactor(),
        memberId,
        version,
        create,
        options.sessions(),
        options.nodes(),
        index,
        options.stateSize(),
        options.tickMillis(),
        options.stashMillis(),
        options.sessionTimeoutMillis(),
        // How this node leaves when it is rolled: a drain hands its sessions over, a restart
        // stashes them for the successor with its member id.
        options.mode(index).equals("drain") ? NodeSettings.DRAIN : NodeSettings.STASH,
        true);
  }

  private NodeProcess launch(NodeSettings s, Ledger ledger) {
    Path log = runDir.resolve(s.memberId() + "-" + s.version() + ".log");
    var p = new NodeProcess(s, options.nodeHeapMegabytes(), classpath, log, ledger::accept);
    processes.add(p);
    p.exited().thenAccept(at -> ledger.exited(p, at));
    return p;
  }

  /**
   * Waits until {@code condition} holds; fails if it does not within {@code timeout} or if one of
   * {@code mustLive} exits meanwhile.
   */
  private static void await(
      String what, Duration timeout, BooleanSupplier condition, List<NodeProcess> mustLive) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      for (NodeProcess p : mustLive) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "node " + p + " exited while waiting until " + what + " (see its log)");
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting until " + what);
      }
      try {
        Thread.sleep(50); // polling a condition fed by the nodes' reader threads
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting until " + what, e);
      }
    }
  }

  /** SIGTERM to every node still running, then SIGKILL to any that has not exited in 10 s. */
  private void killAll() {
    for (NodeProcess p : processes) {
      if (p.isAlive()) {
        p.sigterm();
      }
    }
    for (NodeProcess p : processes) {
      try {
        p.exited().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        p.destroy();
      }
    }
  }

  private static void deleteTopic(String kafka, String topic) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka))) {
      admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("could not delete the demo topic " + topic + ": " + e);
    }
  }

  private String scenario() {
    var s = new StringBuilder();
    s.append(options.nodes()).append(" nodes rolled v1 -> v2, ");
    s.append(options.sessions()).append(" sessions of ~").append(options.stateSize()).append(" B");
    s.append(", tick ").append(options.tickMillis()).append(" ms");
    s.append(", stash every ").append(options.stashMillis()).append(" ms");
    var modes = new java.util.ArrayList<String>();
    for (int i = 1; i <= options.nodes(); i++) {
      modes.add(options.mode(i));
    }
    s.append(
        modes.stream().distinct().count() == 1
            ? ", mode " + modes.get(0)
            : ", modes " + String.join(",", modes));
    s.append(options.embedded() ? ", embedded Kafka + ZooKeeper" : ", external Kafka + ZooKeeper");
    return s.toString();
  }

  /**
   * {@code target/demo-runs/<time>} next to the jar (or classes) this runs from, else a temp dir.
   */
  private static Path defaultRunDir() throws IOException {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    try {
      Path code = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = code.getParent();
      if (target != null
          && target.getFileName() != null
          && target.getFileName().toString().equals("target")
          && Files.isWritable(target)) {
        return target.resolve("demo-runs").resolve(stamp);
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to a temp dir
    }
    return Files.createTempDirectory("handoff-demo-" + stamp + "-");
  }
}
