package dev.handoff.testkit.cluster;

import dev.handoff.Adoption;
import dev.handoff.Drain;
import dev.handoff.HandoffException;
import dev.handoff.HandoverTarget;
import dev.handoff.SessionMover;
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
 * {@code <id> <command> [args...]}; replies {@code R <id> ok [value]} or {@code R <id> err
 * <exception class> <message>}; member events {@code E <type> <writerId> <detail>}; sessions this
 * node took over or kept, as {@link ObservedMove}s, {@code M <how> <session> <state> <from>}; once
 * ready, {@code READY <writerId>}.
 *
 * <p>Sessions are plain strings: a session this node stops for a transfer ends with the state it
 * has here plus {@code "+moved"}, so a reader can tell a handed-over state from the one stashed
 * before. SIGTERM runs {@link StateHandoff#leaveOnShutdown}: with {@code --on-shutdown leave} (the
 * default) a graceful leave; with {@code --on-shutdown move} it drains to a running member and
 * stashes what is left for an adopter.
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
    handoff.onHandover(a -> moved("handover", a.session(), a.state(), a.from().toString()));
    if (onShutdown(args).equals("move")) {
      handoff.leaveOnShutdown(Duration.ofSeconds(20), mover(handoff, Duration.ZERO));
    } else {
      handoff.leaveOnShutdown(Duration.ofSeconds(20), () -> {});
    }
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
          case "drain" -> {
            // drain <member, or * for the newest version evenly> <budget ms> <stop delay ms>
            HandoverTarget target =
                key.equals("*") ? HandoverTarget.newestVersionEvenly() : HandoverTarget.member(key);
            Duration budget = Duration.ofMillis(Long.parseLong(state));
            Duration stopDelay = Duration.ofMillis(Long.parseLong(dec(p[4])));
            reply(
                id,
                handoff
                    .drain(target, budget, mover(handoff, stopDelay))
                    .done()
                    .thenApply(NodeMain::encodeDrain));
          }
          case "adopt" ->
              reply(
                  id,
                  handoff
                      .adopt(
                          key,
                          Duration.ofMillis(Long.parseLong(state)),
                          a -> moved("adopted", a.session(), a.state(), a.from().toString()))
                      .thenApply(NodeMain::encodeAdoption));
          case "accept" -> {
            handoff.acceptHandovers(Boolean.parseBoolean(key));
            ok(id, "");
          }
          case "members" ->
              ok(
                  id,
                  String.join(
                      ",",
                      handoff.members().stream()
                          .map(m -> m.writerId() + ":" + m.state())
                          .toList()));
          default -> err(id, new IllegalArgumentException("unknown command " + cmd));
        }
      } catch (RuntimeException e) {
        err(id, e);
      }
    }
    handoff.close();
  }

  private static String onShutdown(String[] args) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--on-shutdown")) {
        return args[i + 1];
      }
    }
    return "leave";
  }

  /**
   * What this node's "application" does when a drain moves a session: the state handed over is the
   * current one plus {@code "+moved"} (after {@code stopDelay}, to stretch a drain out for fault
   * tests); a session no receiver took is reported kept.
   */
  static SessionMover<String> mover(StateHandoff<String> handoff, Duration stopDelay) {
    return new SessionMover<>() {
      @Override
      public String stop(String session) {
        if (!stopDelay.isZero()) {
          java.util.concurrent.locks.LockSupport.parkNanos(stopDelay.toNanos());
        }
        String state = handoff.peek(session).orElse("") + "+moved";
        moved("stopped", session, state, handoff.self().writerId());
        return state;
      }

      @Override
      public void kept(String session, String state) {
        moved("kept", session, state, handoff.self().writerId());
      }
    };
  }

  private static void moved(String how, String session, String state, String from) {
    send("M " + new ObservedMove(how, session, state, from).encode());
  }

  static String encodeDrain(Drain.Result r) {
    return r.moved()
        + ","
        + r.kept()
        + ","
        + r.failed()
        + ","
        + r.remaining()
        + ","
        + r.took().toMillis();
  }

  static Drain.Result decodeDrain(String s) {
    String[] p = s.split(",");
    return new Drain.Result(
        Integer.parseInt(p[0]),
        Integer.parseInt(p[1]),
        Integer.parseInt(p[2]),
        Integer.parseInt(p[3]),
        Duration.ofMillis(Long.parseLong(p[4])));
  }

  static String encodeAdoption(Adoption a) {
    return a.adopted() + "," + a.skipped() + "," + a.failed() + "," + a.took().toMillis();
  }

  static Adoption decodeAdoption(String s) {
    String[] p = s.split(",");
    return new Adoption(
        Integer.parseInt(p[0]),
        Integer.parseInt(p[1]),
        Integer.parseInt(p[2]),
        Duration.ofMillis(Long.parseLong(p[3])));
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
