package dev.handoff.bench;

import dev.handoff.testkit.EmbeddedEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Handoff side by side with raw Kafka clients and Kafka Streams, on one embedded broker and
 * ZooKeeper started here. Every figure is set next to a baseline measured in the same run.
 *
 * <pre>
 * java -Xmx3g -cp handoff-bench/target/benchmarks.jar dev.handoff.bench.HandoffBench --size default
 * </pre>
 *
 * Writes {@code bench-results.md} and {@code bench-results.json} into {@code handoff-bench/target}
 * (or {@code --out DIR}). See the module README for the options.
 */
public final class HandoffBench {

  private HandoffBench() {}

  public static void main(String[] args) throws Exception {
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("HandoffBench: " + e.getMessage());
      System.err.print(BenchOptions.USAGE);
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.print(BenchOptions.USAGE);
      return;
    }
    Report report = run(options);
    System.exit(report.failures().isEmpty() ? 0 : 1);
  }

  /** Runs every chosen scenario and writes the results; never throws for a failed scenario. */
  public static Report run(BenchOptions options) throws Exception {
    var report = new Report(options);
    Path tmp = options.outDir().resolve("bench-tmp");
    Files.createDirectories(tmp);
    System.out.printf(
        Locale.ROOT,
        "HandoffBench size=%s sessions=%,d value=%d B; starting Kafka and ZooKeeper%n",
        options.size(),
        options.sessions(),
        options.valueBytes());
    try (var env =
        EmbeddedEnvironment.builder()
            .kafkaBrokers(1)
            .zookeeperServers(1)
            .baseDir(tmp.toAbsolutePath())
            .start()) {
      var bench = new Bench(env, options, report, tmp.toAbsolutePath());
      boolean replay = options.runs(BenchOptions.Scenario.REPLAY);
      boolean memory = options.runs(BenchOptions.Scenario.MEMORY);
      if (replay || memory) {
        attempt(report, "replay/memory", () -> new ReplayScenario(bench).run(replay, memory));
      }
      for (ClientProfile profile : options.profiles()) {
        if (options.runs(BenchOptions.Scenario.STASH)) {
          attempt(report, "stash " + profile.id(), () -> new StashScenario(bench).run(profile));
        }
      }
      for (ClientProfile profile : options.profiles()) {
        if (options.runs(BenchOptions.Scenario.LATENCY)) {
          attempt(report, "latency " + profile.id(), () -> new LatencyScenario(bench).run(profile));
        }
      }
      if (options.runs(BenchOptions.Scenario.OVERLOAD)) {
        attempt(report, "overload", () -> new OverloadScenario(bench).run());
      }
      if (options.runs(BenchOptions.Scenario.ROLLING)) {
        // Once, not per profile: its nodes use one profile (fetch20), as the cluster tests do.
        if (options.rollingSessions() == 0) {
          report.note("Rolling deploy skipped at this size.");
        } else {
          attempt(report, "rolling", () -> new RollingScenario(bench).run());
        }
      }
    }
    var files = report.write();
    System.out.println();
    System.out.println(report.markdown());
    System.out.println("written: " + files);
    return report;
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void attempt(Report report, String name, Step step) {
    long t0 = System.nanoTime();
    System.out.println("== " + name);
    try {
      step.run();
    } catch (Exception | AssertionError e) {
      e.printStackTrace(System.out);
      report.failure(name, e);
    }
    System.out.printf(Locale.ROOT, "== %s took %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
  }
}
