package dev.handoff.testkit.cluster;

import dev.handoff.testkit.cluster.history.HistoryFile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * A Handoff node JVM of the fault test ({@link ConsistencyUnderFaultsTest}): a real node ({@link
 * NodeFactory}: KafkaDeltaLog, ZkMembership, string states) running the {@link CounterWorkload} and
 * recording its history. Started by {@link FaultNodeProcess}.
 *
 * <p>Arguments: the {@link NodeConfig} ones plus {@code --history <file> --history-node <name>
 * --workload-seed <n>}. Protocol on standard input/output, one line each: once ready it prints
 * {@code READY <writerId> <System.nanoTime()>}; requests {@code <id> session} (the ZooKeeper
 * session id and password, to expire it) and {@code <id> quiesce} (stop the workload, then report
 * {@code <writerId> <held keys, comma-separated>}) are answered with {@code R <id> <answer>}.
 * SIGTERM stashes every held session once more and leaves; end of standard input (the test JVM is
 * gone) halts at once.
 */
public final class FaultNodeMain {
  private static final PrintStream OUT = System.out;

  private FaultNodeMain() {}

  public static void main(String[] args) throws Exception {
    System.setOut(System.err); // stdout carries the protocol; logs go to stderr
    NodeConfig config = NodeConfig.fromArgs(args);
    Map<String, String> extra = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      extra.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    var built = NodeFactory.build(config);
    var handoff = built.handoff();
    handoff.start().join();
    var history = HistoryFile.record(extra.get("history-node"), Path.of(extra.get("history")));
    var workload =
        new CounterWorkload(
            handoff,
            history,
            Long.parseLong(extra.get("workload-seed")),
            CounterWorkload.Settings.DEFAULT);
    handoff.leaveOnShutdown(Duration.ofSeconds(20), workload::stashAllAndStop);
    send("READY " + handoff.self().writerId() + " " + System.nanoTime());
    workload.start();
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] p = line.split(" ");
      try {
        switch (p[1]) {
          case "session" -> {
            var s = built.membership().sessionCredentials();
            send("R " + p[0] + " " + s.sessionId() + ":" + HexFormat.of().formatHex(s.password()));
          }
          case "quiesce" -> {
            var keys = workload.quiesce(20_000);
            send("R " + p[0] + " " + handoff.self().writerId() + " " + String.join(",", keys));
          }
          default -> send("R " + p[0] + " error unknown-command");
        }
      } catch (RuntimeException e) {
        send("R " + p[0] + " error " + e.toString().replace('\n', ' '));
      }
    }
    Runtime.getRuntime().halt(3); // the test JVM is gone: never outlive it
  }

  private static synchronized void send(String line) {
    OUT.println(line);
    OUT.flush();
  }
}
