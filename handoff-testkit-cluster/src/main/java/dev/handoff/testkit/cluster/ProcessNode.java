package dev.handoff.testkit.cluster;

import dev.handoff.Adoption;
import dev.handoff.Drain;
import dev.handoff.HandoffException;
import dev.handoff.testkit.JvmProcess;
import dev.handoff.zk.ZkMembership;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node in its own JVM ({@link NodeMain}, started as a {@link JvmProcess}), so that tests can
 * really kill it: {@link #sigkill()} is {@code kill -9}, {@link #sigterm()} runs its shutdown hook
 * (a graceful leave).
 */
final class ProcessNode implements ClusterNode {
  private final String id;
  private final JvmProcess process;
  private final Map<String, CompletableFuture<String>> calls = new ConcurrentHashMap<>();
  private final List<ObservedEvent> events = new CopyOnWriteArrayList<>();
  private final List<ObservedMove> moves = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile String writerId;

  ProcessNode(NodeConfig config, Path logFile) {
    this(config, logFile, HandoffCluster.OnShutdown.LEAVE);
  }

  ProcessNode(NodeConfig config, Path logFile, HandoffCluster.OnShutdown onShutdown) {
    this.id = config.memberId();
    try {
      var launch =
          JvmProcess.builder(NodeMain.class)
              .name("node process " + id)
              .maxHeapMegabytes(256)
              .systemProperty("java.io.tmpdir", System.getProperty("java.io.tmpdir"))
              .args(args(config, onShutdown))
              .logFile(logFile)
              .onOutputLine(this::onLine)
              .readyWhenOutput(line -> line.startsWith("READY "));
      if (config.zookeeperJaasFile() != null) {
        // A secured ensemble: the node's ZooKeeper client finds its SASL section in this file.
        launch.systemProperty("java.security.auth.login.config", config.zookeeperJaasFile());
      }
      this.process = launch.start();
    } catch (UncheckedIOException e) {
      throw new IllegalStateException("cannot start node process " + id, e.getCause());
    }
    process
        .exited()
        .thenRun(
            () -> {
              var dead = new IllegalStateException("node process " + id + " exited");
              calls.values().forEach(f -> f.completeExceptionally(dead));
            });
  }

  private static List<String> args(NodeConfig config, HandoffCluster.OnShutdown onShutdown) {
    var args = new java.util.ArrayList<>(config.toArgs());
    args.add("--on-shutdown");
    args.add(onShutdown == HandoffCluster.OnShutdown.MOVE_SESSIONS ? "move" : "leave");
    return args;
  }

  ProcessNode awaitReady() {
    try {
      writerId = process.awaitReady(Duration.ofSeconds(90)).orElseThrow().substring(6);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "node process " + id + " did not become ready (see its log under target/)", e);
    }
    return this;
  }

  private void onLine(String line) {
    if (line.startsWith("E ")) {
      ObservedEvent e = ObservedEvent.decode(line.substring(2));
      events.add(e);
      if (e.type().equals("ConnectionChanged") && e.detail().equals("REREGISTERED")) {
        writerId = e.writerId();
      }
    } else if (line.startsWith("M ")) {
      moves.add(ObservedMove.decode(line.substring(2)));
    } else if (line.startsWith("R ")) {
      String[] p = line.split(" ", -1);
      CompletableFuture<String> f = calls.remove(p[1]);
      if (f == null) {
        return;
      }
      if (p[2].equals("ok")) {
        f.complete(NodeMain.dec(p[3]));
      } else {
        f.completeExceptionally(error(NodeMain.dec(p[3]), NodeMain.dec(p[4])));
      }
    }
  }

  private static RuntimeException error(String type, String message) {
    return switch (type) {
      case "Fenced" -> new HandoffException.Fenced(message);
      case "OwnedElsewhere" -> new HandoffException.OwnedElsewhere(message, null);
      case "Left" -> new HandoffException.Left(message);
      case "NotReady" -> new HandoffException.NotReady(message);
      case "TooLarge" -> new HandoffException.TooLarge(message);
      case "Timeout" -> new HandoffException.Timeout(message);
      default -> new HandoffException(type + ": " + message);
    };
  }

  private CompletableFuture<String> call(String cmd, String... args) {
    String callId = Long.toString(ids.incrementAndGet());
    var f = new CompletableFuture<String>();
    calls.put(callId, f);
    var line = new StringBuilder(callId).append(' ').append(cmd);
    for (String a : args) {
      line.append(' ').append(NodeMain.enc(a));
    }
    try {
      process.send(line.toString());
    } catch (UncheckedIOException e) {
      calls.remove(callId);
      f.completeExceptionally(
          new IllegalStateException("node process " + id + " is gone", e.getCause()));
    }
    return f;
  }

  private String now(CompletableFuture<String> f) {
    return f.orTimeout(30, TimeUnit.SECONDS).join();
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String writerId() {
    return writerId;
  }

  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public boolean isProcess() {
    return true;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public CompletableFuture<Void> stash(String key, String state) {
    return call("stash", key, state).thenApply(v -> null);
  }

  @Override
  public CompletableFuture<Optional<String>> pickup(String key) {
    return call("pickup", key).thenApply(NodeMain::unopt);
  }

  @Override
  public CompletableFuture<Void> end(String key) {
    return call("end", key).thenApply(v -> null);
  }

  @Override
  public Optional<String> peek(String key) {
    return NodeMain.unopt(now(call("peek", key)));
  }

  @Override
  public CompletableFuture<Optional<String>> read(String key) {
    return call("read", key).thenApply(NodeMain::unopt);
  }

  @Override
  public Optional<String> owner(String key) {
    return NodeMain.unopt(now(call("owner", key)));
  }

  @Override
  public Set<String> keys() {
    return NodeMain.set(now(call("keys")));
  }

  @Override
  public Set<String> ownedKeys() {
    return NodeMain.set(now(call("owned")));
  }

  @Override
  public List<ObservedEvent> events() {
    return List.copyOf(events);
  }

  @Override
  public CompletableFuture<Drain.Result> drain(
      String toMember, Duration budget, Duration stopDelay) {
    return call(
            "drain",
            toMember == null ? "*" : toMember,
            Long.toString(budget.toMillis()),
            Long.toString(stopDelay.toMillis()))
        .thenApply(NodeMain::decodeDrain);
  }

  @Override
  public CompletableFuture<Adoption> adopt(String memberId, Duration budget) {
    return call("adopt", memberId, Long.toString(budget.toMillis()))
        .thenApply(NodeMain::decodeAdoption);
  }

  @Override
  public void acceptHandovers(boolean accept) {
    now(call("accept", Boolean.toString(accept)));
  }

  @Override
  public List<ObservedMove> moves() {
    return List.copyOf(moves);
  }

  /** The members this node sees now, as {@code writerId:STATE}. */
  List<String> members() {
    String s = now(call("members"));
    return s.isEmpty() ? List.of() : List.of(s.split(","));
  }

  /** The node's ZooKeeper session id and password, to force its expiry from the test. */
  ZkMembership.SessionCredentials session() {
    String[] p = now(call("session")).split(":");
    return new ZkMembership.SessionCredentials(
        Long.parseLong(p[0]), java.util.HexFormat.of().parseHex(p[1]));
  }

  CompletableFuture<Void> leave() {
    return call("leave").thenApply(v -> null);
  }

  /** SIGTERM: the node's shutdown hook leaves gracefully. Waits for the process to exit. */
  void sigterm() {
    // JvmProcess signals the pid and leaves our end of the node's pipes open (Process.destroy
    // would close them), so what the node prints while it leaves still arrives.
    try {
      process.stop(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGKILL: no shutdown hook, no leave; peers see the ZooKeeper session expire. */
  void sigkill() {
    process.sigkill();
    try {
      process.awaitExit(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "process node " + id + " (pid " + process.pid() + ")";
  }
}
