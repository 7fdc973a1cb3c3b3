package dev.handoff.testkit.containers;

import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.internal.SessionExpiry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * A {@link HandoffEnvironment} of one Kafka broker (KRaft, broker and controller in one node) and
 * one ZooKeeper server, each in a Docker container started through Testcontainers.
 *
 * <p>Both containers use the host's network and bind only to 127.0.0.1, on ports this class picks
 * when it starts; so clients in the test JVM and in child processes reach them at the same
 * addresses as an embedded environment's, and no Docker network is needed.
 *
 * <p>Images: {@value #DEFAULT_KAFKA_IMAGE} and {@value #DEFAULT_ZOOKEEPER_IMAGE} unless set on the
 * builder, by the system properties {@value #KAFKA_IMAGE_PROPERTY} and {@value
 * #ZOOKEEPER_IMAGE_PROPERTY}, or by the environment variables {@code HANDOFF_KAFKA_IMAGE} and
 * {@code HANDOFF_ZOOKEEPER_IMAGE} (first found wins). A replacement Kafka image must provide {@code
 * /opt/kafka/bin/kafka-storage.sh} and {@code /opt/kafka/bin/kafka-server-start.sh} as the {@code
 * apache/kafka} image does; a ZooKeeper image must run {@code zkServer.sh start-foreground} on
 * {@code /conf/zoo.cfg} as the official {@code zookeeper} image does.
 *
 * <p>Stopping and restarting a broker or server stops and starts the same container, so it keeps
 * its data and ports. All methods are thread-safe; fault controls are serialised on this object.
 * This class needs {@code org.testcontainers:testcontainers} on the class path (an optional
 * dependency of the testkit) and a Docker daemon: check {@link #dockerUnavailableReason()} first.
 */
public final class TestcontainersEnvironment implements HandoffEnvironment {
  private static final Logger LOG = LoggerFactory.getLogger(TestcontainersEnvironment.class);

  /** The Kafka image used unless overridden. */
  public static final String DEFAULT_KAFKA_IMAGE = "apache/kafka:4.3.1";

  /** The ZooKeeper image used unless overridden. */
  public static final String DEFAULT_ZOOKEEPER_IMAGE = "zookeeper:3.9";

  /** System property naming the Kafka image. */
  public static final String KAFKA_IMAGE_PROPERTY = "handoff.kafka.image";

  /** System property naming the ZooKeeper image. */
  public static final String ZOOKEEPER_IMAGE_PROPERTY = "handoff.zookeeper.image";

  private static final String HOST = "127.0.0.1";
  private static final String KAFKA_CONFIG = "/opt/handoff/server.properties";
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
  private static final int ZOOKEEPER_TICK_MS = 200;

  private final GenericContainer<?> kafka;
  private final GenericContainer<?> zooKeeper;
  private final String bootstrapServers;
  private final String zookeeperConnect;
  private final int zookeeperPort;
  private boolean closed;

  private TestcontainersEnvironment(
      GenericContainer<?> kafka, int kafkaPort, GenericContainer<?> zooKeeper, int zookeeperPort) {
    this.kafka = kafka;
    this.zooKeeper = zooKeeper;
    this.bootstrapServers = HOST + ":" + kafkaPort;
    this.zookeeperConnect = HOST + ":" + zookeeperPort;
    this.zookeeperPort = zookeeperPort;
  }

  /** A builder: one Kafka broker and one ZooKeeper server, default images. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Why containers cannot run here, in one line, or empty if a Docker daemon answers. Never throws.
   */
  public static Optional<String> dockerUnavailableReason() {
    try {
      if (DockerClientFactory.instance().isDockerAvailable()) {
        return Optional.empty();
      }
      return Optional.of(
          "no Docker daemon found (set DOCKER_HOST, or run scripts/docker-local.sh start)");
    } catch (RuntimeException | LinkageError e) {
      return Optional.of("Docker is not usable: " + e);
    }
  }

  /** The image named by a system property, else an environment variable, else the default. */
  static String configuredImage(String property, String envVariable, String fallback) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(envVariable);
    }
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  /**
   * Options of a {@link TestcontainersEnvironment}; each is validated when set. Not thread-safe.
   */
  public static final class Builder {
    private String kafkaImage =
        configuredImage(KAFKA_IMAGE_PROPERTY, "HANDOFF_KAFKA_IMAGE", DEFAULT_KAFKA_IMAGE);
    private String zookeeperImage =
        configuredImage(
            ZOOKEEPER_IMAGE_PROPERTY, "HANDOFF_ZOOKEEPER_IMAGE", DEFAULT_ZOOKEEPER_IMAGE);
    private boolean fastCompaction;
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();

    private Builder() {}

    /** The Kafka image, e.g. {@code apache/kafka:4.3.1}; see the class doc for what it needs. */
    public Builder kafkaImage(String image) {
      this.kafkaImage = image(image, "kafkaImage");
      return this;
    }

    /** The ZooKeeper image, e.g. {@code zookeeper:3.9}; see the class doc for what it needs. */
    public Builder zookeeperImage(String image) {
      this.zookeeperImage = image(image, "zookeeperImage");
      return this;
    }

    /**
     * If on, the broker's log cleaner looks for work every 200 ms, so a topic with {@code
     * EmbeddedKafka.fastCompactionTopicConfig()} is compacted within seconds. Default off.
     */
    public Builder fastCompaction(boolean on) {
      this.fastCompaction = on;
      return this;
    }

    /** A broker property that overrides the defaults (not listeners, ports, node id or dirs). */
    public Builder brokerProperty(String key, String value) {
      if (key == null || key.isBlank()) {
        throw new IllegalArgumentException("broker property key must not be blank");
      }
      brokerProperties.put(key, Objects.requireNonNull(value, () -> "value of " + key));
      return this;
    }

    /**
     * Starts both containers in parallel; returns once Kafka and ZooKeeper serve.
     *
     * @throws IllegalStateException if Docker is unavailable or a container does not serve within
     *     two minutes (the message holds the end of its log)
     */
    public TestcontainersEnvironment start() {
      long t0 = System.nanoTime();
      int[] ports = freePorts(3);
      var zk = zooKeeperContainer(zookeeperImage, ports[2]);
      var k = kafkaContainer(kafkaImage, ports[0], ports[1], brokerConfig(ports[0], ports[1]));
      var zkStart = CompletableFuture.runAsync(zk::start, Builder::daemon);
      try {
        k.start();
        zkStart.join();
      } catch (RuntimeException e) {
        zkStart.handle((v, x) -> null).join();
        stopQuietly(k);
        stopQuietly(zk);
        throw e instanceof CompletionException && e.getCause() instanceof RuntimeException re
            ? re
            : e;
      }
      var env = new TestcontainersEnvironment(k, ports[0], zk, ports[2]);
      LOG.info("{} started in {} ms", env, (System.nanoTime() - t0) / 1_000_000);
      return env;
    }

    private String brokerConfig(int brokerPort, int controllerPort) {
      var p = new LinkedHashMap<String, String>();
      p.put("process.roles", "broker,controller");
      p.put("node.id", "1");
      p.put("controller.quorum.voters", "1@" + HOST + ":" + controllerPort);
      p.put(
          "listeners",
          "PLAINTEXT://"
              + HOST
              + ":"
              + brokerPort
              + ",CONTROLLER://"
              + HOST
              + ":"
              + controllerPort);
      p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
      p.put("controller.listener.names", "CONTROLLER");
      p.put("inter.broker.listener.name", "PLAINTEXT");
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      p.put("log.dirs", "/tmp/handoff-kafka-logs");
      p.put("offsets.topic.replication.factor", "1");
      p.put("offsets.topic.num.partitions", "1");
      p.put("transaction.state.log.replication.factor", "1");
      p.put("transaction.state.log.min.isr", "1");
      p.put("transaction.state.log.num.partitions", "1");
      p.put("share.coordinator.state.topic.replication.factor", "1");
      p.put("share.coordinator.state.topic.min.isr", "1");
      p.put("share.coordinator.state.topic.num.partitions", "1");
      p.put("group.initial.rebalance.delay.ms", "0");
      p.put("log.cleaner.dedupe.buffer.size", "2097152");
      p.put("log.cleaner.threads", "1");
      p.put("num.network.threads", "2");
      p.put("num.io.threads", "2");
      p.put("broker.heartbeat.interval.ms", "500");
      if (fastCompaction) {
        p.put("log.cleaner.backoff.ms", "200");
      }
      p.putAll(brokerProperties);
      var sb = new StringBuilder();
      p.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
      return sb.toString();
    }

    private static String image(String image, String option) {
      if (image == null || image.isBlank()) {
        throw new IllegalArgumentException(option + " must not be blank");
      }
      try {
        DockerImageName.parse(image.trim()).assertValid();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            option + " '" + image + "' is not an image name: " + e.getMessage(), e);
      }
      return image.trim();
    }

    private static void daemon(Runnable r) {
      Thread t = new Thread(r, "testcontainers-environment-start");
      t.setDaemon(true);
      t.start();
    }
  }

  @SuppressWarnings("resource") // closed by TestcontainersEnvironment.close()
  private static GenericContainer<?> kafkaContainer(
      String image, int brokerPort, int controllerPort, String config) {
    String clusterId = Uuid.randomUuid().toString();
    // Format once (a restarted container finds its storage formatted), then run the broker as PID 1
    // so that "docker stop" is a clean shutdown.
    String script =
        "/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t '"
            + clusterId
            + "' -c "
            + KAFKA_CONFIG
            + " >/dev/null && exec /opt/kafka/bin/kafka-server-start.sh "
            + KAFKA_CONFIG;
    var c = new GenericContainer<>(DockerImageName.parse(image));
    c.withNetworkMode("host")
        .withCopyToContainer(Transferable.of(config), KAFKA_CONFIG)
        .withEnv("KAFKA_HEAP_OPTS", "-Xmx512m -Xms64m")
        .withCreateContainerCmdModifier(
            cmd -> cmd.withEntrypoint("sh", "-c", script).withCmd(List.of()))
        .waitingFor(
            new ReadyWhen(
                "Kafka at " + HOST + ":" + brokerPort, () -> kafkaServes(HOST + ":" + brokerPort)))
        .withStartupTimeout(START_TIMEOUT);
    return c;
  }

  @SuppressWarnings("resource") // closed by TestcontainersEnvironment.close()
  private static GenericContainer<?> zooKeeperContainer(String image, int port) {
    String zooCfg =
        String.join(
            "\n",
            // The embedded server's timing: sessions may be as short as 400 ms or as long as 60 s.
            "tickTime=" + ZOOKEEPER_TICK_MS,
            "minSessionTimeout=" + 2 * ZOOKEEPER_TICK_MS,
            "maxSessionTimeout=60000",
            "initLimit=10",
            "syncLimit=5",
            "dataDir=/data",
            "clientPort=" + port,
            "clientPortAddress=" + HOST,
            "maxClientCnxns=0",
            "admin.enableServer=false",
            "4lw.commands.whitelist=srvr,ruok",
            "");
    var c = new GenericContainer<>(DockerImageName.parse(image));
    c.withNetworkMode("host")
        .withCopyToContainer(Transferable.of(zooCfg), "/conf/zoo.cfg")
        .withEnv("JVMFLAGS", "-Xmx128m")
        .withEnv("ZK_SERVER_HEAP", "128")
        .waitingFor(new ReadyWhen("ZooKeeper at " + HOST + ":" + port, () -> zooKeeperServes(port)))
        .withStartupTimeout(START_TIMEOUT);
    return c;
  }

  @Override
  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public Map<String, Object> kafkaAdminProperties() {
    var m = new HashMap<String, Object>();
    m.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return m;
  }

  @Override
  public int kafkaBrokers() {
    return 1;
  }

  /** Stops the broker's container (SIGTERM: a clean shutdown); its data stays in the container. */
  @Override
  public synchronized void stopKafkaBroker(int index) {
    checkIndex(index, "Kafka broker");
    stopContainer(kafka);
  }

  @Override
  public synchronized void startKafkaBroker(int index) {
    checkIndex(index, "Kafka broker");
    startContainer(kafka, "Kafka at " + bootstrapServers, () -> kafkaServes(bootstrapServers));
  }

  @Override
  public synchronized void restartKafkaBroker(int index) {
    stopKafkaBroker(index);
    startKafkaBroker(index);
  }

  @Override
  public String zookeeperConnect() {
    return zookeeperConnect;
  }

  @Override
  public int zookeeperServers() {
    return 1;
  }

  @Override
  public synchronized void stopZooKeeperServer(int index) {
    checkIndex(index, "ZooKeeper server");
    stopContainer(zooKeeper);
  }

  @Override
  public synchronized void restartZooKeeperServer(int index) {
    stopZooKeeperServer(index);
    startContainer(
        zooKeeper, "ZooKeeper at " + zookeeperConnect, () -> zooKeeperServes(zookeeperPort));
  }

  @Override
  public void expireZooKeeperSession(long sessionId, byte[] password) {
    checkOpen();
    SessionExpiry.expire(zookeeperConnect, sessionId, password, START_TIMEOUT);
  }

  /** Stops and removes both containers (Kafka first). Idempotent; never throws. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopQuietly(kafka);
    stopQuietly(zooKeeper);
  }

  @Override
  public String toString() {
    return "TestcontainersEnvironment[kafka="
        + bootstrapServers
        + " ("
        + kafka.getDockerImageName()
        + "), zooKeeper="
        + zookeeperConnect
        + " ("
        + zooKeeper.getDockerImageName()
        + ")]";
  }

  private void stopContainer(GenericContainer<?> c) {
    checkOpen();
    if (!isRunning(c)) {
      return;
    }
    long t0 = System.nanoTime();
    DockerClientFactory.instance()
        .client()
        .stopContainerCmd(c.getContainerId())
        .withTimeout(30)
        .exec();
    LOG.info("stopped {} in {} ms", c.getDockerImageName(), (System.nanoTime() - t0) / 1_000_000);
  }

  private void startContainer(GenericContainer<?> c, String what, BooleanSupplier serves) {
    checkOpen();
    long t0 = System.nanoTime();
    if (!isRunning(c)) {
      DockerClientFactory.instance().client().startContainerCmd(c.getContainerId()).exec();
    }
    awaitReady(what, serves, () -> isRunning(c), c::getLogs, START_TIMEOUT);
    LOG.info("{} serves again {} ms after start", what, (System.nanoTime() - t0) / 1_000_000);
  }

  private static boolean isRunning(GenericContainer<?> c) {
    Boolean running =
        DockerClientFactory.instance()
            .client()
            .inspectContainerCmd(c.getContainerId())
            .exec()
            .getState()
            .getRunning();
    return Boolean.TRUE.equals(running);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }

  private static void checkIndex(int index, String what) {
    if (index != 0) {
      throw new IndexOutOfBoundsException(what + " index " + index + " is not in 0..0");
    }
  }

  /** Polls until {@code serves} holds; fails early, with the log's end, if the container exits. */
  private static void awaitReady(
      String what,
      BooleanSupplier serves,
      BooleanSupplier running,
      Supplier<String> logs,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!serves.getAsBoolean()) {
      if (!running.getAsBoolean()) {
        throw new IllegalStateException(
            what + " exited before serving; last log lines:\n" + tail(logs));
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            what + " does not serve after " + timeout + "; last log lines:\n" + tail(logs));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      }
    }
  }

  private static String tail(Supplier<String> logs) {
    try {
      String[] lines = logs.get().split("\n");
      return String.join(
          "\n", List.of(lines).subList(Math.max(0, lines.length - 20), lines.length));
    } catch (RuntimeException e) {
      return "(no log: " + e + ")";
    }
  }

  private static boolean kafkaServes(String bootstrap) {
    var props = new HashMap<String, Object>();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000);
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
    try (Admin admin = Admin.create(props)) {
      return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  /** True if the server answers the {@code srvr} four-letter word (it serves clients). */
  private static boolean zooKeeperServes(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getByName(HOST), port), 500);
      s.setSoTimeout(2_000);
      OutputStream out = s.getOutputStream();
      out.write("srvr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      return answer.contains("Mode:");
    } catch (IOException e) {
      return false;
    }
  }

  private static int[] freePorts(int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        // Held open together so the same port is not handed out twice.
        held.add(new ServerSocket(0, 1, InetAddress.getByName(HOST)));
      }
      return held.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free ports on " + HOST, e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // the port stays free either way
        }
      }
    }
  }

  private static void stopQuietly(GenericContainer<?> c) {
    try {
      c.stop();
    } catch (RuntimeException e) {
      LOG.warn("error stopping container {}", c.getContainerId(), e);
    }
  }

  /** A Testcontainers wait strategy that polls a readiness check from the host. */
  private static final class ReadyWhen extends AbstractWaitStrategy {
    private final String what;
    private final BooleanSupplier serves;

    ReadyWhen(String what, BooleanSupplier serves) {
      this.what = what;
      this.serves = serves;
    }

    @Override
    protected void waitUntilReady() {
      awaitReady(
          what,
          serves,
          () ->
              Boolean.TRUE.equals(
                  waitStrategyTarget.getCurrentContainerInfo().getState().getRunning()),
          waitStrategyTarget::getLogs,
          startupTimeout);
    }
  }
}
