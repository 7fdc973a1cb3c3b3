package dev.handoff.testkit.cluster;

import dev.handoff.HandoffException;
import dev.handoff.StateHandoff;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Handoff node in its own JVM, driven by {@link ProcessNode} over standard input and output.
 *
 * <p>Protocol, one line per message, fields separated by single spaces and URL-encoded: requests
 * {@code <id> <command> [key] [state]}; replies {@code R <id> ok [value]} or {@code R <id> err
 * <exception class> <message>}; member events {@code E <type> <writerId> <detail>}; once ready,
 * {@code READY <writerId>}. SIGTERM runs a graceful leave through {@link
 * StateHandoff#leaveOnShutdown}.
 */
public final class NodeMain {
  private static final PrintStream OUT = System.out;

  private NodeMain() {}

  public static void main(String[] args) throws Exception {
    // stdout carries the protocol; logs go to stderr.
    System.setOut(System.err);
    NodeConfig config = NodeConfig.fromArgs(args);
    var built = NodeFactory.build(config);
    StateHandoff<String> handoff = built.handoff();
    handoff.onMemberEvent(e -> send("E " + ObservedEvent.of(e).encode()));
    handoff.leaveOnShutdown(Duration.ofSeconds(20), () -> {});
    handoff.start().join();
    send("READY " + handoff.self().writerId());
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] p = line.split(" ");
      String id = p[0];
      String cmd = p[1];
      String key = p.length > 2 ? dec(p[2]) : null;
      String state = p.length > 3 ? dec(p[3]) : null;
      try {
        switch (cmd) {
          case "stash" -> reply(id, handoff.stash(key, state).thenApply(v -> ""));
          case "pickup" -> reply(id, handoff.pickup(key).thenApply(NodeMain::opt));
          case "end" -> reply(id, handoff.end(key).thenApply(v -> ""));
          case "read" -> reply(id, handoff.read(key).thenApply(NodeMain::opt));
          case "peek" -> ok(id, opt(handoff.peek(key)));
          case "owner" -> ok(id, opt(handoff.owner(key).map(Object::toString)));
          case "keys" -> ok(id, String.join(",", handoff.keys()));
          case "owned" -> ok(id, String.join(",", handoff.ownedKeys()));
          case "writer" -> ok(id, handoff.self().writerId());
          case "session" -> {
            var creds = built.membership().sessionCredentials();
            ok(id, creds.sessionId() + ":" + HexFormat.of().formatHex(creds.password()));
          }
          case "leave" -> reply(id, handoff.leave().thenApply(v -> ""));
          default -> err(id, new IllegalArgumentException("unknown command " + cmd));
        }
      } catch (RuntimeException e) {
        err(id, e);
      }
    }
    handoff.close();
  }

  static String opt(Optional<String> o) {
    return o.map(v -> "+" + v).orElse("-");
  }

  static Optional<String> unopt(String s) {
    return s.startsWith("+") ? Optional.of(s.substring(1)) : Optional.empty();
  }

  static Set<String> set(String s) {
    return s.isEmpty() ? Set.of() : Set.of(s.split(","));
  }

  private static void reply(String id, CompletableFuture<String> f) {
    f.whenComplete(
        (v, e) -> {
          if (e == null) {
            ok(id, v);
          } else {
            err(id, e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
          }
        });
  }

  private static void ok(String id, String value) {
    send("R " + id + " ok " + enc(value));
  }

  private static void err(String id, Throwable e) {
    String type =
        e instanceof HandoffException ? e.getClass().getSimpleName() : e.getClass().getName();
    send("R " + id + " err " + enc(type) + " " + enc(String.valueOf(e.getMessage())));
  }

  private static synchronized void send(String line) {
    OUT.println(line);
    OUT.flush();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
