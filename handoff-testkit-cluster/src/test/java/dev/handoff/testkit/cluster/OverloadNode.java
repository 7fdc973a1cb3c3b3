package dev.handoff.testkit.cluster;

import dev.handoff.testkit.JvmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The test's handle on one {@link OverloadNodeMain} JVM: starts it, sends it commands, and waits
 * for its answers; keeps every {@code HEAP} reading and {@code FAILURE} line it printed.
 */
final class OverloadNode implements AutoCloseable {
  private final JvmProcess process;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final List<Long> heap = new CopyOnWriteArrayList<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final List<String> stats = new CopyOnWriteArrayList<>();
  private final Ready ready;

  /** What the node said once ready: its writer id and its memory bounds. */
  record Ready(String writerId, long maxPendingBytes, long memoryBudget, long maxHeap) {}

  /** A {@code LOADED} or {@code STATS} line as key=value pairs. */
  record Stats(Map<String, String> values) {
    long number(String key) {
      return Long.parseLong(values.get(key));
    }

    double decimal(String key) {
      return Double.parseDouble(values.get(key));
    }

    String text(String key) {
      return values.get(key);
    }

    static Stats parse(String line) {
      var m = new HashMap<String, String>();
      for (String part : line.split(" ")) {
        int eq = part.indexOf('=');
        if (eq > 0) {
          m.put(part.substring(0, eq), part.substring(eq + 1));
        }
      }
      return new Stats(m);
    }
  }

  OverloadNode(
      NodeConfig config,
      int sessions,
      int stateBytes,
      long maxPendingBytes,
      int heapMegabytes,
      Path log) {
    var args = new java.util.ArrayList<>(config.toArgs());
    args.addAll(
        List.of(
            "--sessions",
            Integer.toString(sessions),
            "--state-bytes",
            Integer.toString(stateBytes),
            "--max-pending-bytes",
            Long.toString(maxPendingBytes)));
    process =
        JvmProcess.builder(OverloadNodeMain.class)
            .name("overload node " + config.memberId())
            .maxHeapMegabytes(heapMegabytes)
            .systemProperty("java.io.tmpdir", System.getProperty("java.io.tmpdir"))
            .args(args)
            .logFile(log)
            .onOutputLine(this::onLine)
            .readyWhenOutput(l -> l.startsWith("READY "))
            .start();
    String[] r = process.awaitReady(Duration.ofSeconds(120)).orElseThrow().split(" ");
    ready = new Ready(r[1], Long.parseLong(r[2]), Long.parseLong(r[3]), Long.parseLong(r[4]));
  }

  private void onLine(String line) {
    System.out.println(process == null ? line : process.name() + ": " + line);
    if (line.startsWith("HEAP ")) {
      heap.add(Long.parseLong(line.substring(5)));
    } else if (line.startsWith("FAILURE ")) {
      failures.add(line.substring(8));
    } else if (line.startsWith("STATS ")) {
      stats.add(line);
    } else if (!line.startsWith("READY ")) {
      answers.add(line);
    }
  }

  Ready ready() {
    return ready;
  }

  /** Sends {@code command}; returns its answer, the next line starting with {@code answer}. */
  String call(String command, String answer, Duration timeout) throws InterruptedException {
    process.send(command);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = answers.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new IllegalStateException(
            process.name() + " did not answer " + command + " within " + timeout);
      }
      if (line.startsWith("ERROR ")) {
        throw new IllegalStateException(process.name() + ": " + line);
      }
      if (line.startsWith(answer + " ") || line.equals(answer)) {
        return line;
      }
    }
  }

  /** Heap readings (used bytes after a full GC) so far, in order. */
  List<Long> heapReadings() {
    return List.copyOf(heap);
  }

  List<String> failures() {
    return List.copyOf(failures);
  }

  List<String> statsLines() {
    return List.copyOf(stats);
  }

  /** SIGTERM: the node leaves gracefully; waits for its exit. */
  void sigterm() throws InterruptedException {
    process.stop(Duration.ofSeconds(40));
  }

  @Override
  public void close() {
    process.close();
  }
}
