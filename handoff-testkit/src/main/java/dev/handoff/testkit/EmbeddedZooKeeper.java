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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLSocket;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
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
 * <p>With {@link Builder#tlsSasl(boolean)} the client port speaks only TLS and every session must
 * authenticate with SASL (DIGEST-MD5) before anything else; see there for what that means for the
 * rest of the JVM.
 *
 * <p>Data lives in a fresh directory under {@code java.io.tmpdir} (or {@link
 * Builder#baseDir(Path)}); {@link #close()} removes it. All methods are thread-safe; the fault
 * controls are serialised on this object.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
  private static final Duration SERVE_TIMEOUT = Duration.ofSeconds(60);
  private static final int TICK_TIME_MS = 200;

  /** The SASL user every {@linkplain Builder#tlsSasl(boolean) secured} server knows. */
  public static final String DEFAULT_USER = "handoff";

  // One password per JVM: every secured server shares the JVM's JAAS server section.
  private static final String DEFAULT_PASSWORD = randomPassword();

  private final Path baseDir;
  private final List<Server> servers;
  private final String connectString;
  private final boolean tlsSasl;
  private boolean closed;

  private EmbeddedZooKeeper(Path baseDir, List<Server> servers, boolean tlsSasl) {
    this.baseDir = baseDir;
    this.servers = List.copyOf(servers);
    this.tlsSasl = tlsSasl;
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
    private boolean tlsSasl;
    private final Map<String, String> saslUsers = new TreeMap<>();

    private Builder() {}

    /**
     * If on, the client port speaks only TLS (the {@link TestCertificate}; no client certificates)
     * and the servers require SASL: a session that has not authenticated with DIGEST-MD5 as one of
     * the {@linkplain #saslUser users} is closed at its first request ({@code
     * authProvider.sasl=SASLAuthenticationProvider}, {@code enforce.auth.enabled=true}, {@code
     * enforce.auth.schemes=sasl}: ZooKeeper 3.9's form of {@code requireClientAuthScheme=sasl}).
     * Clients connect with {@link EmbeddedZooKeeper#clientConfig(String, String)}. Quorum traffic
     * between the servers of an ensemble stays plain (on 127.0.0.1). Default off.
     *
     * <p>In-process ZooKeeper servers read these settings from JVM-wide system properties and the
     * JVM's JAAS configuration, so they are set while a secured instance runs (and restored after
     * the last one closes), and a plain instance cannot start while a secured one runs, nor the
     * other way round: that start throws {@link IllegalStateException}.
     */
    public Builder tlsSasl(boolean on) {
      this.tlsSasl = on;
      return this;
    }

    /**
     * A SASL user of a {@linkplain #tlsSasl(boolean) secured} server, besides {@value
     * EmbeddedZooKeeper#DEFAULT_USER}. A user name has one password per JVM.
     */
    public Builder saslUser(String user, String password) {
      requireCredential(user, "user");
      requireCredential(password, "password");
      if (user.equals(DEFAULT_USER)) {
        throw new IllegalArgumentException("saslUser '" + DEFAULT_USER + "' is the default user");
      }
      saslUsers.put(user, password);
      return this;
    }

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

    /**
     * Starts the servers; returns once every one serves clients.
     *
     * @throws IllegalStateException if a server cannot start, or a secured server should start
     *     while a plain one runs in this JVM (or the other way round), see {@link #tlsSasl}
     */
    public EmbeddedZooKeeper start() {
      long t0 = System.nanoTime();
      if (tlsSasl) {
        var users = new TreeMap<>(saslUsers);
        users.put(DEFAULT_USER, DEFAULT_PASSWORD);
        ZooKeeperSecurity.acquireSecured(users);
      } else {
        ZooKeeperSecurity.acquirePlain();
      }
      Path dir;
      int[] ports;
      try {
        dir = Loopback.newTempDir(baseDir, "embedded-zk-");
        ports = Loopback.freePorts(3 * servers);
      } catch (RuntimeException e) {
        release(tlsSasl);
        throw e;
      }
      List<Server> list = new ArrayList<>();
      for (int i = 0; i < servers; i++) {
        list.add(
            new Server(
                i,
                dir.resolve("zk-" + i),
                ports[3 * i],
                ports[3 * i + 1],
                ports[3 * i + 2],
                tlsSasl));
      }
      for (Server s : list) {
        s.properties = s.properties(list);
      }
      var zk = new EmbeddedZooKeeper(dir, list, tlsSasl);
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
          "ZooKeeper ({} server(s){}) serving at {} after {} ms",
          servers,
          tlsSasl ? ", TLS and SASL" : "",
          zk.connectString,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      return zk;
    }
  }

  private static void release(boolean tlsSasl) {
    if (tlsSasl) {
      ZooKeeperSecurity.releaseSecured();
    } else {
      ZooKeeperSecurity.releasePlain();
    }
  }

  /** True if clients need TLS and SASL (see {@link Builder#tlsSasl(boolean)}). */
  public boolean isTlsSasl() {
    return tlsSasl;
  }

  /**
   * The {@code ZKClientConfig} properties of a client of these servers authenticating as {@code
   * user} with {@code password}: TLS with the Netty client socket and the {@link TestCertificate}'s
   * trust store, {@code zookeeper.fips-mode=false} (ZooKeeper's FIPS mode, on by default, rules out
   * DIGEST-MD5), and the JAAS section (in this JVM's configuration and in {@link #jaasFile()}) that
   * holds the credentials. The user need not exist (tests of wrong credentials use a wrong
   * password). A new mutable map.
   *
   * @throws IllegalStateException if these servers are not {@linkplain Builder#tlsSasl(boolean)
   *     secured}
   */
  public Map<String, String> clientProperties(String user, String password) {
    requireCredential(user, "user");
    requireCredential(password, "password");
    requireTlsSasl();
    TestCertificate cert = TestCertificate.get();
    var p = new LinkedHashMap<String, String>();
    p.put("zookeeper.client.secure", "true");
    p.put("zookeeper.clientCnxnSocket", "org.apache.zookeeper.ClientCnxnSocketNetty");
    p.put("zookeeper.ssl.trustStore.location", cert.trustStore().toString());
    p.put("zookeeper.ssl.trustStore.password", cert.password());
    p.put("zookeeper.ssl.trustStore.type", TestCertificate.STORE_TYPE);
    p.put("zookeeper.sasl.client", "true");
    // ZooKeeper 3.9 defaults to FIPS mode, in which its client refuses SASL DIGEST-MD5.
    p.put("zookeeper.fips-mode", "false");
    p.put("zookeeper.sasl.clientconfig", ZooKeeperSecurity.clientSection(user, password));
    return p;
  }

  /** {@link #clientProperties(String, String)} of the {@value #DEFAULT_USER} user. */
  public Map<String, String> clientProperties() {
    return clientProperties(DEFAULT_USER, DEFAULT_PASSWORD);
  }

  /** A new {@link ZKClientConfig} holding {@link #clientProperties(String, String)}. */
  public ZKClientConfig clientConfig(String user, String password) {
    var config = new ZKClientConfig();
    clientProperties(user, password).forEach(config::setProperty);
    return config;
  }

  /** A new {@link ZKClientConfig} of the {@value #DEFAULT_USER} user. */
  public ZKClientConfig clientConfig() {
    return clientConfig(DEFAULT_USER, DEFAULT_PASSWORD);
  }

  /**
   * The JAAS file with the client sections handed out by {@link #clientProperties(String, String)}
   * so far, for a client in another JVM ({@code -Djava.security.auth.login.config=<file>}).
   *
   * @throws IllegalStateException if these servers are not secured
   */
  public Path jaasFile() {
    requireTlsSasl();
    return ZooKeeperSecurity.jaasFile();
  }

  private void requireTlsSasl() {
    if (!tlsSasl) {
      throw new IllegalStateException(this + " is not TLS/SASL (see Builder.tlsSasl)");
    }
  }

  private static void requireCredential(String s, String what) {
    if (s == null || s.isBlank() || s.contains("\"") || s.contains("\\")) {
      throw new IllegalArgumentException(
          what + " must not be blank nor contain quotes or backslashes");
    }
  }

  private static String randomPassword() {
    byte[] random = new byte[16];
    new java.security.SecureRandom().nextBytes(random);
    return java.util.HexFormat.of().formatHex(random);
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
    SessionExpiry.expire(
        connectString, sessionId, password, SERVE_TIMEOUT, tlsSasl ? clientProperties() : Map.of());
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
    release(tlsSasl);
    try {
      Loopback.deleteTree(baseDir);
    } catch (IOException e) {
      LOG.warn("cannot delete ZooKeeper data under {}", baseDir, e);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedZooKeeper[" + (tlsSasl ? "TLS/SASL " : "") + connectString + "]";
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
    final boolean tls;
    Properties properties;
    volatile ZooKeeperServerEmbedded embedded;

    Server(int index, Path dir, int clientPort, int quorumPort, int electionPort, boolean tls) {
      this.index = index;
      this.dir = dir;
      this.clientPort = clientPort;
      this.quorumPort = quorumPort;
      this.electionPort = electionPort;
      this.tls = tls;
    }

    Properties properties(List<Server> all) {
      var p = new Properties();
      p.setProperty("dataDir", dir.resolve("data").toAbsolutePath().toString());
      if (tls) {
        // Only the TLS port: no plain client port at all.
        p.setProperty("secureClientPort", Integer.toString(clientPort));
        p.setProperty("secureClientPortAddress", Loopback.HOST);
      } else {
        p.setProperty("clientPort", Integer.toString(clientPort));
        p.setProperty("clientPortAddress", Loopback.HOST);
      }
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
              tls
                  ? String.format("%s:%d:%d", Loopback.HOST, s.quorumPort, s.electionPort)
                  : String.format(
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
      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress(Loopback.ADDRESS, clientPort), 1000);
        plain.setSoTimeout(2000);
        Socket s = plain;
        if (tls) {
          var ssl =
              (SSLSocket)
                  TestCertificate.get()
                      .clientContext()
                      .getSocketFactory()
                      .createSocket(plain, Loopback.HOST, clientPort, true);
          ssl.startHandshake();
          s = ssl;
        }
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
