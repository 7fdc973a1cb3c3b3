package dev.handoff.demo;

import dev.handoff.testkit.JvmProcess;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The orchestrator's handle on one {@link GameNode} JVM (a {@link JvmProcess}): starts it, reads
 * its {@link NodeMessage} lines (on a thread of its own) into a sink, sends it commands, and stops
 * it with a real signal: {@link #sigterm()} runs its shutdown hook, {@link #sigkill()} does not.
 */
final class NodeProcess implements Incarnation {
  private final NodeSettings settings;
  private final String label;
  private final JvmProcess process;
  private final BiConsumer<? super NodeProcess, NodeMessage> sink;
  private final CompletableFuture<NodeMessage.Ready> ready = new CompletableFuture<>();
  private final CompletableFuture<Long> exited = new CompletableFuture<>();
  private volatile CompletableFuture<NodeMessage.Hosted> listing;
  private volatile String writerId;
  private volatile long signalledMicros;
  private volatile String signal;
  private final long launchedMicros = GameNode.micros();
  private volatile long readyMicros;

  NodeProcess(
      NodeSettings settings,
      int heapMegabytes,
      String classpath,
      Path logFile,
      BiConsumer<? super NodeProcess, NodeMessage> sink) {
    this.settings = settings;
    this.label = settings.memberId() + "/" + settings.version();
    this.sink = sink;
    try {
      this.process =
          JvmProcess.builder(GameNode.class)
              .name("node " + label)
              // Every node holds every session: sized from the sessions (DemoOptions).
              .maxHeapMegabytes(heapMegabytes)
              .jvmOptions("-Xss512k")
              .classpath(classpath)
              .args(settings.toArgs())
              .logFile(logFile)
              .onOutputLine(this::onLine)
              .start();
    } catch (UncheckedIOException e) {
      throw new IllegalStateException(
          "cannot start the JVM of node " + label + ": " + e.getCause(), e.getCause());
    }
    process.exited().thenAccept(this::onExit);
  }

  private void onLine(String line) {
    NodeMessage m = NodeMessage.decode(line);
    if (m instanceof NodeMessage.Ready r) {
      writerId = r.writerId();
      readyMicros = GameNode.micros();
      ready.complete(r);
    } else if (m instanceof NodeMessage.Hosted h) {
      var l = listing;
      if (l != null) {
        l.complete(h);
      }
    }
    if (m != null) {
      sink.accept(this, m);
    }
  }

  /** Runs once the process has exited and its output has been read to the end. */
  private void onExit(int code) {
    long at = GameNode.micros();
    ready.completeExceptionally(
        new IllegalStateException(
            "node " + label + " exited with code " + code + " before it was ready"));
    var l = listing;
    if (l != null) {
      l.completeExceptionally(new IllegalStateException("node " + label + " exited"));
    }
    exited.complete(at);
  }

  /** Waits until the node replayed the log and serves. */
  NodeMessage.Ready awaitReady(Duration timeout) {
    try {
      return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("node " + label + " was not ready within " + timeout);
    } catch (Exception e) {
      throw new IllegalStateException(
          e.getCause() != null ? e.getCause().getMessage() : e.toString());
    }
  }

  /** Asks the node which sessions it hosts right now. */
  NodeMessage.Hosted list(Duration timeout) {
    var f = new CompletableFuture<NodeMessage.Hosted>();
    listing = f;
    send("LIST");
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node " + label + " did not answer LIST: " + e, e);
    }
  }

  private void send(String command) {
    try {
      process.send(command);
    } catch (UncheckedIOException e) {
      throw new IllegalStateException("node " + label + " is gone", e.getCause());
    }
  }

  /** SIGTERM: the node stashes its sessions and leaves. Returns at once. */
  void sigterm() {
    signal = "SIGTERM";
    signalledMicros = GameNode.micros();
    // To the pid (JvmProcess leaves the pipes open; Process.destroy() would close our end of the
    // node's output), so we read what it reports while it shuts down.
    process.sigterm();
  }

  /** SIGKILL: the node dies at once, without stashing or leaving. Returns at once. */
  void sigkill() {
    signal = "SIGKILL";
    signalledMicros = GameNode.micros();
    process.sigkill();
  }

  /**
   * Waits until the process has exited and its output has been read to the end; returns the exit
   * time (epoch micros). Kills it if it takes longer than {@code timeout}.
   */
  long awaitExit(Duration timeout) {
    try {
      return exited.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      process.sigkill();
      return exited.join();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Exit time (epoch micros) once the process has exited and its output has been read. */
  CompletableFuture<Long> exited() {
    return exited;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the process if it is still running (cleanup on the way out). */
  void destroy() {
    if (process.isAlive()) {
      process.sigkill();
    }
  }

  NodeSettings settings() {
    return settings;
  }

  @Override
  public String memberId() {
    return settings.memberId();
  }

  @Override
  public String version() {
    return settings.version();
  }

  /** The incarnation's writer id once ready, else the label. */
  @Override
  public String writerId() {
    String w = writerId;
    return w != null ? w : label;
  }

  /** {@code SIGTERM}, {@code SIGKILL} or null if never signalled. */
  @Override
  public String signal() {
    return signal;
  }

  @Override
  public long signalledMicros() {
    return signalledMicros;
  }

  /** Milliseconds from launching the JVM to its READY line (0 if not ready). */
  @Override
  public long startMillis() {
    long r = readyMicros;
    return r == 0 ? 0 : (r - launchedMicros) / 1000;
  }

  @Override
  public long readyMicros() {
    return readyMicros;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public String toString() {
    return label + " (pid " + process.pid() + ")";
  }
}
