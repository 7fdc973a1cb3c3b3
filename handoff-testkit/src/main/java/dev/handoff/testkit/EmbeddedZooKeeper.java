package dev.handoff.testkit;

import dev.handoff.testkit.internal.SessionExpiry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real ZooKeeper servers inside this JVM: one standalone server or an ensemble, all bound to
 * 127.0.0.1 on free ports, with the admin server off.
 *
 * <p>Each server keeps its client port and data directory for its whole life, so {@link
 * #restartServer(int)} brings back the same server with the same data. Servers run with {@code
 * tickTime=200} (so sessions may be as short as 400 ms) and never call {@code System.exit} on an
 * internal error: they log it instead.
 *
 * <p>Data lives in a fresh directory under {@code java.io.tmpdir} (or {@link
 * Builder#baseDir(Path)}); {@link #close()} removes it. All methods are thread-safe; the fault
 * controls are serialised on this object.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
  private static final Duration SERVE_TIMEOUT = Duration.ofSeconds(60);
  private static final int TICK_TIME_MS = 200;

  private final Path baseDir;
  private final List<Server> servers;
  private final String connectString;
  private boolean closed;

  private EmbeddedZooKeeper(Path baseDir, List<Server> servers) {
    this.baseDir = baseDir;
    this.servers = List.copyOf(servers);
    this.connectString =
        servers.stream()
            .map(s -> Loopback.HOST + ":" + s.clientPort)
            .collect(Collectors.joining(","));
  }

  /** Starts one standalone server; returns once it serves clients. */
  public static EmbeddedZooKeeper start() {
    return builder().start();
  }

  /**
   * Starts an ensemble of {@code servers} servers (1 gives a standalone server); returns once every
   * server serves clients.
   *
   * @throws IllegalArgumentException if {@code servers < 1}
   */
  public static EmbeddedZooKeeper startEnsemble(int servers) {
    return builder().servers(servers).start();
  }

  /** A builder for the less common options (server count, base directory). */
  public static Builder builder() {
    return new Builder();
  }

  /** Options of an {@link EmbeddedZooKeeper}; validated when set. */
  public static final class Builder {
    private int servers = 1;
    private Path baseDir;

    private Builder() {}

    /** Number of servers, at least 1 (default 1: a standalone server). */
    public Builder servers(int servers) {
      if (servers < 1) {
        throw new IllegalArgumentException("servers must be >= 1 but was " + servers);
      }
      this.servers = servers;
      return this;
    }

    /**
     * Parent of the data directory (default: {@code java.io.tmpdir}). A fresh sub-directory is
     * created in it and deleted on close.
     */
    public Builder baseDir(Path baseDir) {
      this.baseDir = Objects.requireNonNull(baseDir, "baseDir");
      return this;
    }

    /** Starts the servers; returns once every one serves clients. */
    public EmbeddedZooKeeper start() {
      long t0 = System.nanoTime();
      Path dir = Loopback.newTempDir(baseDir, "embedded-zk-");
      int[] ports = Loopback.freePorts(3 * servers);
      List<Server> list = new ArrayList<>();
      for (int i = 0; i < servers; i++) {
        list.add(
            new Server(
                i, dir.resolve("zk-" + i), ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]));
      }
      for (Server s : list) {
        s.properties = s.properties(list);
      }
      var zk = new EmbeddedZooKeeper(dir, list);
      try {
        for (Server s : list) {
          s.start();
        }
        for (Server s : list) {
          s.awaitServing();
        }
      } catch (RuntimeException e) {
        zk.close();
        throw e;
      }
      LOG.info(
          "ZooKeeper ({} server(s)) serving at {} after {} ms",
          servers,
          zk.connectString,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      return zk;
    }
  }

  /** The client connect string, e.g. {@code 127.0.0.1:41234,127.0.0.1:41240}; never changes. */
  public String connectString() {
    return connectString;
  }

  /** Number of servers (running or stopped). */
  public int servers() {
    return servers.size();
  }

  /** The client port of server {@code index}. */
  public int clientPort(int index) {
    return server(index).clientPort;
  }

  /** True if server {@code index} is running (started and not stopped). */
  public synchronized boolean isRunning(int index) {
    return server(index).embedded != null;
  }

  /**
   * Stops server {@code index} (its clients lose their connection); its port and data are kept for
   * {@link #restartServer(int)}. Does nothing if it is already stopped.
   */
  public synchronized void stopServer(int index) {
    checkOpen();
    server(index).stop();
  }

  /**
   * Starts server {@code index} again on the same port with the same data (stopping it first if it
   * runs); returns once it serves clients. In an ensemble that means it has joined a quorum.
   */
  public synchronized void restartServer(int index) {
    checkOpen();
    Server s = server(index);
    s.stop();
    Loopback.waitUntil(
        "ZooKeeper server " + index + " port " + s.clientPort + " to be free",
        SERVE_TIMEOUT,
        () -> Loopback.isFree(s.clientPort));
    s.start();
    s.awaitServing();
  }

  /**
   * The index of the server {@code client} is connected to, or -1 if it is not connected to any of
   * these servers.
   */
  public int serverIndexOf(ZooKeeper client) {
    Objects.requireNonNull(client, "client");
    InetSocketAddress remote = remoteAddress(client);
    if (remote == null) {
      return -1;
    }
    for (Server s : servers) {
      if (s.clientPort == remote.getPort()) {
        return s.index;
      }
    }
    return -1;
  }

  /**
   * Expires a session on the server side, as if its timeout had passed: its ephemeral nodes are
   * deleted and its owner sees {@code Expired} when it next talks to the ensemble. Returns once the
   * ensemble reports the session as expired.
   *
   * <p>Works by attaching a second client to the same session and closing it (closing a session is
   * what expiry does on the server). If the session is already expired, returns at once.
   *
   * @throws IllegalStateException if no server accepts the connection within 60 s
   */
  public void expireSession(long sessionId, byte[] password) {
    Objects.requireNonNull(password, "password");
    checkOpen();
    SessionExpiry.expire(connectString, sessionId, password, SERVE_TIMEOUT);
  }

  /**
   * Expires the current session of a started Curator client on the server side; see {@link
   * #expireSession(long, byte[])}.
   *
   * @throws IllegalStateException if the client has no session
   */
  public void expireSession(CuratorFramework client) {
    Objects.requireNonNull(client, "client");
    ZooKeeper zk;
    try {
      zk = client.getZookeeperClient().getZooKeeper();
    } catch (Exception e) {
      throw new IllegalStateException("Curator client has no ZooKeeper handle", e);
    }
    expireSession(zk.getSessionId(), zk.getSessionPasswd());
  }

  /** Stops every server and deletes the data directory. Idempotent; never throws. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Server s : servers) {
      try {
        s.stop();
      } catch (RuntimeException e) {
        LOG.warn("error stopping ZooKeeper server {}", s.index, e);
      }
    }
    try {
      Loopback.deleteTree(baseDir);
    } catch (IOException e) {
      LOG.warn("cannot delete ZooKeeper data under {}", baseDir, e);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedZooKeeper[" + connectString + "]";
  }

  private static InetSocketAddress remoteAddress(ZooKeeper client) {
    try {
      Method m = ZooKeeper.class.getDeclaredMethod("testableRemoteSocketAddress");
      m.setAccessible(true);
      return (InetSocketAddress) m.invoke(client);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot read the server address of a ZooKeeper client", e);
    }
  }

  private Server server(int index) {
    if (index < 0 || index >= servers.size()) {
      throw new IndexOutOfBoundsException(
          "server index " + index + " is not in 0.." + (servers.size() - 1));
    }
    return servers.get(index);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }

  /** One server: fixed ports and data directory; a new embedded instance per start. */
  private static final class Server {
    final int index;
    final Path dir;
    final int clientPort;
    final int quorumPort;
    final int electionPort;
    Properties properties;
    volatile ZooKeeperServerEmbedded embedded;

    Server(int index, Path dir, int clientPort, int quorumPort, int electionPort) {
      this.index = index;
      this.dir = dir;
      this.clientPort = clientPort;
      this.quorumPort = quorumPort;
      this.electionPort = electionPort;
    }

    Properties properties(List<Server> all) {
      var p = new Properties();
      p.setProperty("dataDir", dir.resolve("data").toAbsolutePath().toString());
      p.setProperty("clientPort", Integer.toString(clientPort));
      p.setProperty("clientPortAddress", Loopback.HOST);
      p.setProperty("tickTime", Integer.toString(TICK_TIME_MS));
      p.setProperty("initLimit", "50");
      p.setProperty("syncLimit", "25");
      p.setProperty("minSessionTimeout", Integer.toString(2 * TICK_TIME_MS));
      p.setProperty("maxSessionTimeout", "60000");
      // All clients come from 127.0.0.1; the default cap of 60 per address is too low for tests.
      p.setProperty("maxClientCnxns", "0");
      p.setProperty("admin.enableServer", "false");
      p.setProperty("4lw.commands.whitelist", "srvr,ruok,stat,mntr");
      if (all.size() > 1) {
        for (Server s : all) {
          p.setProperty(
              "server." + (s.index + 1),
              String.format(
                  "%s:%d:%d;%s:%d",
                  Loopback.HOST, s.quorumPort, s.electionPort, Loopback.HOST, s.clientPort));
        }
      }
      return p;
    }

    void start() {
      try {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        if (properties.containsKey("server.1")) {
          Files.writeString(data.resolve("myid"), Integer.toString(index + 1));
        }
        var props = new Properties();
        props.putAll(properties);
        ZooKeeperServerEmbedded zk =
            ZooKeeperServerEmbedded.builder()
                .baseDir(dir)
                .configuration(props)
                // An internal error must not end the test JVM.
                .exitHandler(ExitHandler.LOG_ONLY)
                .build();
        zk.start(SERVE_TIMEOUT.toMillis());
        embedded = zk;
      } catch (Exception e) {
        throw new IllegalStateException(
            "cannot start ZooKeeper server " + index + " on port " + clientPort, e);
      }
    }

    void awaitServing() {
      Loopback.waitUntil(
          "ZooKeeper server " + index + " on port " + clientPort + " to serve",
          SERVE_TIMEOUT,
          this::serving);
    }

    boolean serving() {
      String reply = fourLetterWord("srvr");
      return reply.contains("Mode: ");
    }

    String fourLetterWord(String word) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(Loopback.ADDRESS, clientPort), 1000);
        s.setSoTimeout(2000);
        OutputStream out = s.getOutputStream();
        out.write(word.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        return "";
      }
    }

    void stop() {
      ZooKeeperServerEmbedded zk = embedded;
      embedded = null;
      if (zk != null) {
        zk.close();
      }
    }
  }
}
