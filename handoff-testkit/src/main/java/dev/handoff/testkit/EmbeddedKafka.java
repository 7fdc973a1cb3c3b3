package dev.handoff.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import kafka.server.BrokerServer;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real Kafka brokers (KRaft, each node both broker and controller) inside this JVM, bound to
 * 127.0.0.1 on free ports.
 *
 * <p>Built with {@link #builder()}: one broker by default, or several that form one controller
 * quorum (with 3, one broker may be stopped and the cluster keeps serving). Each broker keeps its
 * ports and data for its whole life, so {@link #startBroker(int)} brings back the same broker.
 * Internal topics get a replication factor of {@code min(brokers, 3)}; so do auto-created topics.
 *
 * <p>Once an instance has started, Kafka's {@code Exit.exit}/{@code Exit.halt} in this JVM log and
 * throw instead of ending the JVM. Data lives in a fresh directory under {@code java.io.tmpdir} (or
 * {@link Builder#baseDir(Path)}); {@link #close()} removes it. All methods are thread-safe; the
 * fault controls are serialised on this object.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CONTROLLED_SHUTDOWN_TIMEOUT = Duration.ofSeconds(15);

  /** The super user of a {@linkplain Builder#saslSsl(boolean) SASL_SSL} cluster. */
  public static final String ADMIN_USER = "admin";

  private final Path baseDir;
  private final List<Broker> brokers;
  private final String bootstrapServers;
  private final BrokerSecurity security;
  private boolean closed;

  private EmbeddedKafka(Path baseDir, List<Broker> brokers, BrokerSecurity security) {
    this.baseDir = baseDir;
    this.brokers = List.copyOf(brokers);
    this.security = security;
    this.bootstrapServers =
        brokers.stream()
            .map(b -> Loopback.HOST + ":" + b.brokerPort)
            .collect(Collectors.joining(","));
  }

  /** A builder; {@code EmbeddedKafka.builder().start()} gives one broker. */
  public static Builder builder() {
    return new Builder();
  }

  /** Options of an {@link EmbeddedKafka}; each is validated when set. Not thread-safe. */
  public static final class Builder {
    private int brokers = 1;
    private boolean fastCompaction;
    private boolean saslSsl;
    private Path baseDir;
    private final Map<String, String> overrides = new LinkedHashMap<>();

    private Builder() {}

    /**
     * If on, clients and brokers talk SASL_SSL with SCRAM-SHA-512 on the {@link TestCertificate},
     * controllers take mutual TLS, and {@code StandardAuthorizer} allows nothing without an ACL
     * except to the super users {@code User:}{@value #ADMIN_USER} (see {@link #adminProperties()})
     * and {@code User:}{@value TestCertificate#PRINCIPAL} (the brokers). Add principals with {@link
     * #createUser} and {@link #allow}. Default off (PLAINTEXT, no authorizer).
     */
    public Builder saslSsl(boolean on) {
      this.saslSsl = on;
      return this;
    }

    /**
     * Number of brokers, 1 to 9 (default 1). All are controller voters, so a majority must run for
     * the cluster to work: use 3 to survive the loss of one.
     */
    public Builder brokers(int n) {
      if (n < 1 || n > 9) {
        throw new IllegalArgumentException("brokers must be in 1..9 but was " + n);
      }
      this.brokers = n;
      return this;
    }

    /**
     * If on, the log cleaner looks for work every 200 ms instead of every 15 s, so a topic with
     * {@link #fastCompactionTopicConfig()} is compacted within seconds. Default off.
     */
    public Builder fastCompaction(boolean on) {
      this.fastCompaction = on;
      return this;
    }

    /** Sets a broker property on every broker, overriding the testkit's defaults. */
    public Builder brokerProperty(String key, String value) {
      if (key == null || key.isBlank()) {
        throw new IllegalArgumentException("broker property key must not be blank");
      }
      overrides.put(key, Objects.requireNonNull(value, () -> "value of broker property " + key));
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
     * Formats storage and starts every broker (in parallel); returns once all of them serve.
     *
     * @throws IllegalStateException if a broker cannot start within 60 s
     */
    public EmbeddedKafka start() {
      long t0 = System.nanoTime();
      ExitGuard.install();
      Path dir = Loopback.newTempDir(baseDir, "embedded-kafka-");
      int[] ports = Loopback.freePorts(2 * brokers);
      String clusterId = Uuid.randomUuid().toString();
      BrokerSecurity security = saslSsl ? BrokerSecurity.generate() : null;
      String voters =
          java.util.stream.IntStream.range(0, brokers)
              .mapToObj(i -> i + "@" + Loopback.HOST + ":" + ports[2 * i + 1])
              .collect(Collectors.joining(","));
      List<Broker> list = new ArrayList<>();
      for (int i = 0; i < brokers; i++) {
        Properties p =
            brokerProperties(
                i, ports[2 * i], ports[2 * i + 1], voters, dir.resolve("broker-" + i), brokers);
        if (fastCompaction) {
          p.setProperty("log.cleaner.backoff.ms", "200");
        }
        if (security != null) {
          p.putAll(security.brokerProperties(ports[2 * i], ports[2 * i + 1]));
        }
        p.putAll(overrides);
        list.add(new Broker(i, clusterId, ports[2 * i], dir.resolve("broker-" + i), p, security));
      }
      var kafka = new EmbeddedKafka(dir, list, security);
      try {
        // Voters wait for a quorum while starting, so they must start together.
        inParallel(
            list,
            b -> {
              long f0 = System.nanoTime();
              b.format();
              long s0 = System.nanoTime();
              b.start();
              LOG.debug(
                  "{}: format {} ms, startup {} ms",
                  b,
                  (s0 - f0) / 1_000_000,
                  (System.nanoTime() - s0) / 1_000_000);
            });
        long a0 = System.nanoTime();
        kafka.awaitServing(list);
        LOG.debug("registration seen after {} ms", (System.nanoTime() - a0) / 1_000_000);
      } catch (RuntimeException e) {
        kafka.close();
        throw e;
      }
      LOG.info(
          "Kafka ({} broker(s)) serving at {} after {} ms",
          brokers,
          kafka.bootstrapServers,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      return kafka;
    }
  }

  /** Broker properties shared by the in-JVM brokers and {@link KafkaBrokerProcess}. */
  static Properties brokerProperties(
      int nodeId, int brokerPort, int controllerPort, String voters, Path dir, int clusterSize) {
    String rf = Integer.toString(Math.min(clusterSize, 3));
    String minIsr = Integer.toString(Math.min(clusterSize, 2));
    var p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", Integer.toString(nodeId));
    p.setProperty("controller.quorum.voters", voters);
    p.setProperty(
        "listeners",
        "PLAINTEXT://"
            + Loopback.HOST
            + ":"
            + brokerPort
            + ",CONTROLLER://"
            + Loopback.HOST
            + ":"
            + controllerPort);
    p.setProperty("advertised.listeners", "PLAINTEXT://" + Loopback.HOST + ":" + brokerPort);
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.setProperty("log.dirs", dir.resolve("log").toAbsolutePath().toString());
    p.setProperty("offsets.topic.replication.factor", rf);
    p.setProperty("offsets.topic.num.partitions", "1");
    p.setProperty("transaction.state.log.replication.factor", rf);
    p.setProperty("transaction.state.log.min.isr", minIsr);
    p.setProperty("transaction.state.log.num.partitions", "1");
    p.setProperty("share.coordinator.state.topic.replication.factor", rf);
    p.setProperty("share.coordinator.state.topic.min.isr", minIsr);
    p.setProperty("share.coordinator.state.topic.num.partitions", "1");
    p.setProperty("default.replication.factor", rf);
    p.setProperty("group.initial.rebalance.delay.ms", "0");
    // The cleaner's default 128 MiB dedupe buffer per broker is too much for a test heap.
    p.setProperty("log.cleaner.dedupe.buffer.size", "2097152");
    p.setProperty("log.cleaner.threads", "1");
    // Few threads: several brokers share two cores with the tests.
    p.setProperty("num.network.threads", "2");
    p.setProperty("num.io.threads", "2");
    p.setProperty("background.threads", "2");
    p.setProperty("num.replica.fetchers", "1");
    p.setProperty("num.recovery.threads.per.data.dir", "1");
    // A starting broker needs a few heartbeat rounds (register, catch up, unfence); 2 s each by
    // default.
    p.setProperty("broker.heartbeat.interval.ms", "500");
    return p;
  }

  /** The bootstrap servers of all brokers, e.g. {@code 127.0.0.1:40101}; never changes. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** Number of brokers (running or stopped). */
  public int brokers() {
    return brokers.size();
  }

  /** The Kafka node id of broker {@code index} (equal to the index). */
  public int nodeId(int index) {
    return broker(index).index;
  }

  /** True if broker {@code index} runs. */
  public synchronized boolean isRunning(int index) {
    return broker(index).server != null;
  }

  /**
   * Shuts broker {@code index} down cleanly (controlled shutdown: leadership moves away first); its
   * ports and data are kept. Does nothing if it is stopped.
   */
  public synchronized void stopBroker(int index) {
    checkOpen();
    long t0 = System.nanoTime();
    Broker b = broker(index);
    b.stopBrokerPart(CONTROLLED_SHUTDOWN_TIMEOUT);
    b.stop();
    LOG.debug("broker-{} stopped in {} ms", index, (System.nanoTime() - t0) / 1_000_000);
  }

  /**
   * Starts broker {@code index} again on the same ports with the same data; returns once it is
   * registered and serving. Does nothing if it runs.
   */
  public synchronized void startBroker(int index) {
    checkOpen();
    Broker b = broker(index);
    if (b.server != null) {
      return;
    }
    Loopback.waitUntil(
        "ports of broker " + index + " to be free",
        READY_TIMEOUT,
        () -> Loopback.isFree(b.brokerPort) && Loopback.isFree(b.controllerPort()));
    long t0 = System.nanoTime();
    b.start();
    long t1 = System.nanoTime();
    awaitServing(List.of(b));
    LOG.debug(
        "{} restarted: startup {} ms, registration seen after {} ms more",
        b,
        (t1 - t0) / 1_000_000,
        (System.nanoTime() - t1) / 1_000_000);
  }

  /** {@link #stopBroker(int)} then {@link #startBroker(int)}. */
  public synchronized void restartBroker(int index) {
    stopBroker(index);
    startBroker(index);
  }

  /**
   * Properties for an {@link Admin} client: {@code bootstrap.servers}, and on a {@linkplain
   * Builder#saslSsl(boolean) SASL_SSL} cluster the security settings of the super user {@value
   * #ADMIN_USER}. They suit a producer or consumer as well. A new mutable map.
   */
  public Map<String, Object> adminProperties() {
    var m = new HashMap<String, Object>();
    m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    if (security != null) {
      m.putAll(security.clientProperties(ADMIN_USER, security.adminPassword()));
    }
    return m;
  }

  /** True if clients must use SASL_SSL (see {@link Builder#saslSsl(boolean)}). */
  public boolean isSaslSsl() {
    return security != null;
  }

  /**
   * The security settings (no {@code bootstrap.servers}) of a client authenticating as {@code user}
   * with SCRAM-SHA-512 and trusting the {@link TestCertificate}: {@code security.protocol}, {@code
   * sasl.mechanism}, {@code sasl.jaas.config}, {@code ssl.truststore.*}. The user need not exist (a
   * test of wrong credentials uses a wrong password). A new mutable map.
   *
   * @throws IllegalStateException if this cluster is not SASL_SSL
   */
  public Map<String, Object> clientProperties(String user, String password) {
    requireText(user, "user");
    requireText(password, "password");
    return new HashMap<>(secured().clientProperties(user, password));
  }

  /**
   * Creates (or changes the password of) a SCRAM-SHA-512 user; returns once the brokers know it.
   * The user can authenticate but do nothing until {@link #allow} grants it something.
   *
   * @throws IllegalStateException if this cluster is not SASL_SSL, or the change fails
   */
  public void createUser(String user, String password) {
    requireText(user, "user");
    requireText(password, "password");
    BrokerSecurity s = secured();
    if (user.equals(ADMIN_USER)) {
      throw new IllegalArgumentException("user '" + ADMIN_USER + "' is the testkit's super user");
    }
    try (Admin admin = Admin.create(adminProperties())) {
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      user,
                      new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, s.iterations()),
                      password)))
          .all()
          .get(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      Loopback.waitUntil(
          "SCRAM credentials of '" + user + "' to reach the brokers",
          READY_TIMEOUT,
          () -> {
            try {
              return admin
                  .describeUserScramCredentials(List.of(user))
                  .all()
                  .get(5, TimeUnit.SECONDS)
                  .containsKey(user);
            } catch (Exception e) {
              return false;
            }
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating user " + user, e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot create SCRAM user '" + user + "'", e);
    }
  }

  /**
   * Allows {@code user} the operations on the resource (from any host); returns once the brokers'
   * authorizer has the new ACLs. For example {@code allow("handoff", ResourceType.TOPIC,
   * "game-sessions", PatternType.LITERAL, READ, DESCRIBE)}; {@code "*"} with {@code LITERAL} means
   * every resource of the type.
   *
   * @throws IllegalStateException if this cluster is not SASL_SSL, or the change fails
   */
  public void allow(
      String user,
      ResourceType type,
      String name,
      PatternType pattern,
      AclOperation... operations) {
    requireText(user, "user");
    requireText(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(pattern, "pattern");
    if (operations.length == 0) {
      throw new IllegalArgumentException("allow needs at least one operation");
    }
    secured();
    var resource = new ResourcePattern(type, name, pattern);
    var bindings = new ArrayList<AclBinding>();
    for (AclOperation op : operations) {
      bindings.add(
          new AclBinding(
              resource, new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW)));
    }
    try (Admin admin = Admin.create(adminProperties())) {
      admin.createAcls(bindings).all().get(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      var filter =
          new AclBindingFilter(
              resource.toFilter(),
              new AccessControlEntryFilter(
                  "User:" + user, null, AclOperation.ANY, AclPermissionType.ANY));
      Loopback.waitUntil(
          "ACLs of '" + user + "' on " + resource + " to reach the brokers",
          READY_TIMEOUT,
          () -> {
            try {
              return admin
                  .describeAcls(filter)
                  .values()
                  .get(5, TimeUnit.SECONDS)
                  .containsAll(bindings);
            } catch (Exception e) {
              return false;
            }
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating ACLs for " + user, e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot create ACLs for '" + user + "' on " + resource, e);
    }
  }

  private BrokerSecurity secured() {
    if (security == null) {
      throw new IllegalStateException(this + " is not SASL_SSL (see Builder.saslSsl)");
    }
    return security;
  }

  private static void requireText(String s, String what) {
    // Names and passwords go into a JAAS line between double quotes.
    if (s == null || s.isBlank() || s.contains("\"") || s.contains("\\")) {
      throw new IllegalArgumentException(
          what + " must not be blank nor contain quotes or backslashes");
    }
  }

  /**
   * Topic configs that make the log cleaner compact a topic within seconds on a broker built with
   * {@link Builder#fastCompaction(boolean)}: {@code cleanup.policy=compact}, {@code
   * segment.ms=100}, {@code min.cleanable.dirty.ratio=0.01}, {@code delete.retention.ms=100},
   * {@code min.compaction.lag.ms=0}. Segments roll only on append, so the newest records stay
   * uncompacted until one more record arrives after {@code segment.ms}. A new mutable map.
   */
  public static Map<String, String> fastCompactionTopicConfig() {
    var m = new LinkedHashMap<String, String>();
    m.put("cleanup.policy", "compact");
    m.put("segment.ms", "100");
    m.put("min.cleanable.dirty.ratio", "0.01");
    m.put("delete.retention.ms", "100");
    m.put("min.compaction.lag.ms", "0");
    return m;
  }

  /** Shuts every running broker down in parallel and deletes the data. Idempotent; never throws. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      // Brokers first, while every controller still runs, so each controlled shutdown can be
      // approved; a controller without a quorum would keep the last broker waiting 5 minutes.
      inParallel(brokers, b -> b.stopBrokerPart(CONTROLLED_SHUTDOWN_TIMEOUT));
      inParallel(brokers, Broker::stop);
    } catch (RuntimeException e) {
      LOG.warn("error stopping Kafka brokers", e);
    }
    try {
      Loopback.deleteTree(baseDir);
    } catch (IOException e) {
      LOG.warn("cannot delete Kafka data under {}", baseDir, e);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedKafka[" + (security == null ? "" : "SASL_SSL ") + bootstrapServers + "]";
  }

  private void awaitServing(List<Broker> started) {
    Set<Integer> expected = started.stream().map(b -> b.index).collect(Collectors.toSet());
    var props = adminProperties();
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
    try (Admin admin = Admin.create(props)) {
      Loopback.waitUntil(
          "brokers " + expected + " to register at " + bootstrapServers,
          READY_TIMEOUT,
          () -> {
            try {
              Set<Integer> live =
                  admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).stream()
                      .map(Node::id)
                      .collect(Collectors.toSet());
              return live.containsAll(expected);
            } catch (Exception e) {
              return false;
            }
          });
    }
  }

  static <T> void inParallel(List<T> items, Consumer<T> action) {
    var futures =
        items.stream()
            .map(
                item ->
                    CompletableFuture.runAsync(
                        () -> action.accept(item),
                        r -> {
                          Thread t = new Thread(r, "embedded-kafka-" + item);
                          t.setDaemon(true);
                          t.start();
                        }))
            .toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(futures).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }

  private Broker broker(int index) {
    if (index < 0 || index >= brokers.size()) {
      throw new IndexOutOfBoundsException(
          "broker index " + index + " is not in 0.." + (brokers.size() - 1));
    }
    return brokers.get(index);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }

  /** Formats a KRaft log directory (idempotent: an already formatted directory is kept). */
  static void format(Properties props, String clusterId, Path dir) {
    format(props, clusterId, dir, List.of());
  }

  /** As {@link #format(Properties, String, Path)}, with more {@code StorageTool} arguments. */
  static void format(Properties props, String clusterId, Path dir, List<String> extraArguments) {
    try {
      Files.createDirectories(dir);
      Path cfg = dir.resolve("server.properties");
      try (OutputStream out = Files.newOutputStream(cfg)) {
        props.store(out, "written by the Handoff testkit");
      }
      var output = new ByteArrayOutputStream();
      int rc;
      var args =
          new ArrayList<>(
              List.of("format", "-t", clusterId, "-c", cfg.toString(), "--ignore-formatted"));
      args.addAll(extraArguments);
      try (var ps = new PrintStream(output, true, StandardCharsets.UTF_8)) {
        rc = StorageTool.execute(args.toArray(String[]::new), ps);
      }
      if (rc != 0) {
        throw new IllegalStateException(
            "formatting "
                + dir
                + " failed ("
                + rc
                + "): "
                + output.toString(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot format Kafka storage in " + dir, e);
    }
  }

  /** One broker: fixed ports and data directory; a new server object per start. */
  private static final class Broker {
    final int index;
    final String clusterId;
    final int brokerPort;
    final Path dir;
    final Properties props;
    final BrokerSecurity security;
    volatile KafkaRaftServer server;

    Broker(
        int index,
        String clusterId,
        int brokerPort,
        Path dir,
        Properties props,
        BrokerSecurity security) {
      this.index = index;
      this.clusterId = clusterId;
      this.brokerPort = brokerPort;
      this.dir = dir;
      this.props = props;
      this.security = security;
    }

    int controllerPort() {
      String listeners = props.getProperty("listeners");
      return Integer.parseInt(listeners.substring(listeners.lastIndexOf(':') + 1));
    }

    void format() {
      EmbeddedKafka.format(
          props, clusterId, dir, security == null ? List.of() : security.formatArguments());
    }

    void start() {
      var s = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      try {
        s.startup();
      } catch (RuntimeException e) {
        shutdown(s);
        throw new IllegalStateException(
            "cannot start Kafka broker " + index + " on port " + brokerPort, e);
      }
      server = s;
    }

    /**
     * Shuts down the broker half of the node (controlled shutdown, bounded by {@code timeout}) and
     * leaves its controller running. Kafka bounds the wait for approval only at 5 minutes when the
     * node is shut down as a whole, hence the reach into the node.
     */
    void stopBrokerPart(Duration timeout) {
      KafkaRaftServer s = server;
      if (s == null) {
        return;
      }
      try {
        Field field = KafkaRaftServer.class.getDeclaredField("broker");
        field.setAccessible(true);
        if (field.get(s) instanceof scala.Option<?> part
            && part.isDefined()
            && part.get() instanceof BrokerServer broker) {
          broker.shutdown(timeout);
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.debug("cannot stop the broker part of {} alone; stopping the whole node", this, e);
      }
    }

    void stop() {
      KafkaRaftServer s = server;
      server = null;
      if (s != null) {
        shutdown(s);
      }
    }

    private static void shutdown(KafkaRaftServer s) {
      s.shutdown();
      s.awaitShutdown();
    }

    @Override
    public String toString() {
      return "broker-" + index;
    }
  }

  /** Keeps Kafka's fatal-error paths from calling System.exit/halt in a test JVM. */
  static final class ExitGuard {
    private static boolean installed;

    private ExitGuard() {}

    static synchronized void install() {
      if (installed) {
        return;
      }
      installed = true;
      Exit.setExitProcedure(
          (code, message) -> {
            LOG.error("Kafka asked to exit the JVM ({}): {}; refused", code, message);
            throw new IllegalStateException(
                "Kafka asked to exit the JVM (" + code + "): " + message);
          });
      Exit.setHaltProcedure(
          (code, message) -> {
            LOG.error("Kafka asked to halt the JVM ({}): {}; refused", code, message);
            throw new IllegalStateException(
                "Kafka asked to halt the JVM (" + code + "): " + message);
          });
    }
  }
}
