package dev.handoff.testkit.cluster;

import dev.handoff.zk.ZkMembership;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One {@link FaultNodeMain} JVM and every way the fault test touches it: start, wait until ready,
 * SIGSTOP/SIGCONT, SIGKILL, SIGTERM, and the two requests of its protocol. The only place the fault
 * test launches processes, so it can move onto a shared launcher later.
 */
final class FaultNodeProcess {
  private final String memberId;
  private final String name;
  private final Process process;
  private final long launchedAt;
  private final Writer stdin;
  private final Map<String, CompletableFuture<String>> calls = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final CompletableFuture<String[]> ready = new CompletableFuture<>();
  private volatile String writerId;

  /** What a quiesced node reported: its writer id and the sessions its workload holds. */
  record Quiesced(String writerId, Set<String> held) {}

  private FaultNodeProcess(NodeConfig config, String name, List<String> workloadArgs, Path log) {
    this.memberId = config.memberId();
    this.name = name;
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(FaultNodeMain.class.getName());
    cmd.addAll(config.toArgs());
    cmd.addAll(workloadArgs);
    this.launchedAt = System.nanoTime();
    try {
      Files.createDirectories(log.getParent());
      process =
          new ProcessBuilder(cmd)
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start node process " + name, e);
    }
    stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    var reader = new Thread(this::readLoop, "fault-node-reader-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts a node JVM; returns once it is ready. Checks that its {@code System.nanoTime()} lies
   * between the launch and the ready line as this JVM reads its own: the histories compare readings
   * of different processes, which holds on Linux ({@code CLOCK_MONOTONIC}).
   */
  static FaultNodeProcess start(
      NodeConfig config, String name, Path history, long seed, Path log, Duration timeout) {
    var node =
        new FaultNodeProcess(
            config,
            name,
            List.of(
                "--history", history.toString(),
                "--history-node", name,
                "--workload-seed", Long.toString(seed)),
            log);
    String[] r;
    try {
      r = node.ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      node.process.destroyForcibly();
      throw new IllegalStateException("node " + name + " did not become ready; see " + log, e);
    }
    long seen = System.nanoTime();
    long theirs = Long.parseLong(r[1]);
    if (theirs < node.launchedAt || theirs > seen) {
      node.kill();
      throw new IllegalStateException(
          "node "
              + name
              + "'s System.nanoTime() is not this JVM's clock; histories of different"
              + " processes could not be compared");
    }
    node.writerId = r[0];
    return node;
  }

  String memberId() {
    return memberId;
  }

  /** The process's name in the histories (member id plus launch number). */
  String name() {
    return name;
  }

  /** The writer id it reported when ready (it changes if its membership was re-registered). */
  String writerIdAtStart() {
    return writerId;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGSTOP: the whole JVM freezes, as in a long GC pause or CPU starvation. */
  void pause() {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  void resume() {
    signal("CONT");
  }

  /** SIGKILL ({@code kill -9}); waits for the exit. */
  void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(10));
  }

  /** SIGTERM: the node stashes what it holds and leaves gracefully; waits for the exit. */
  void terminate() {
    // ProcessHandle.destroy is SIGTERM without closing our end of the pipes (Process.destroy
    // would).
    process.toHandle().destroy();
    if (!awaitExit(Duration.ofSeconds(40))) {
      kill();
    }
  }

  /** The node's ZooKeeper session, to expire it on the server. */
  ZkMembership.SessionCredentials session() {
    String[] p = ask("session", Duration.ofSeconds(10)).split(":");
    return new ZkMembership.SessionCredentials(Long.parseLong(p[0]), HexFormat.of().parseHex(p[1]));
  }

  /** Stops the node's workload (waiting for its calls in flight) and reports what it holds. */
  CompletableFuture<Quiesced> quiesce() {
    return call("quiesce")
        .orTimeout(60, TimeUnit.SECONDS)
        .thenApply(
            a -> {
              String[] p = a.split(" ", -1);
              var held = new TreeSet<String>();
              if (p.length > 1 && !p[1].isEmpty()) {
                held.addAll(List.of(p[1].split(",")));
              }
              return new Quiesced(p[0], held);
            });
  }

  private String ask(String command, Duration timeout) {
    String answer = call(command).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
    if (answer.startsWith("error ")) {
      throw new IllegalStateException(name + " could not answer " + command + ": " + answer);
    }
    return answer;
  }

  private CompletableFuture<String> call(String command) {
    String id = Long.toString(ids.incrementAndGet());
    var f = new CompletableFuture<String>();
    calls.put(id, f);
    try {
      synchronized (stdin) {
        stdin.write(id + " " + command + "\n");
        stdin.flush();
      }
    } catch (IOException e) {
      calls.remove(id);
      f.completeExceptionally(new IllegalStateException("node " + name + " is gone", e));
    }
    return f;
  }

  private void readLoop() {
    try (var in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("READY ")) {
          ready.complete(line.substring(6).split(" "));
        } else if (line.startsWith("R ")) {
          String[] p = line.split(" ", 3);
          CompletableFuture<String> f = calls.remove(p[1]);
          if (f != null) {
            f.complete(p.length > 2 ? p[2] : "");
          }
        }
      }
    } catch (IOException e) {
      // the process died; fail what is pending below
    }
    var gone = new IllegalStateException("node process " + name + " exited");
    ready.completeExceptionally(gone);
    calls.values().forEach(f -> f.completeExceptionally(gone));
  }

  private void signal(String signal) {
    try {
      int rc =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor();
      if (rc != 0 && process.isAlive()) {
        throw new IllegalStateException(
            "kill -" + signal + " " + process.pid() + " exited with " + rc);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill -" + signal, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sending SIG" + signal, e);
    }
  }

  private boolean awaitExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ")";
  }
}
