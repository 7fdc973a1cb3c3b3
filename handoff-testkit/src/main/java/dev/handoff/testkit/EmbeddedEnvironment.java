package dev.handoff.testkit;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link HandoffEnvironment} of {@link EmbeddedKafka} and {@link EmbeddedZooKeeper} inside this
 * JVM, started together (in parallel) by {@link #builder()}.
 *
 * <p>Either part can be secured ({@link Builder#kafkaSaslSsl}, {@link Builder#zookeeperTlsSasl});
 * the application identity {@value #APPLICATION_USER} then has what a Handoff node needs, and
 * {@link #kafkaClientProperties()}, {@link #zookeeperClientProperties()} and {@link
 * #zookeeperJaasFile()} carry its settings.
 */
public final class EmbeddedEnvironment implements HandoffEnvironment {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedEnvironment.class);

  /**
   * The application's user on secured servers. On SASL_SSL Kafka it is allowed, on every topic
   * ({@code "*"}), exactly the operations a Handoff node needs: {@code READ}, {@code WRITE}, {@code
   * DESCRIBE}, {@code DESCRIBE_CONFIGS} and {@code CREATE}. On TLS/SASL ZooKeeper it is {@link
   * EmbeddedZooKeeper#DEFAULT_USER}.
   */
  public static final String APPLICATION_USER = EmbeddedZooKeeper.DEFAULT_USER;

  /** The topic operations {@value #APPLICATION_USER} gets on a SASL_SSL Kafka. */
  public static final List<AclOperation> HANDOFF_TOPIC_OPERATIONS =
      List.of(
          AclOperation.READ,
          AclOperation.WRITE,
          AclOperation.DESCRIBE,
          AclOperation.DESCRIBE_CONFIGS,
          AclOperation.CREATE);

  private final EmbeddedKafka kafka;
  private final EmbeddedZooKeeper zooKeeper;
  private final String kafkaPassword;

  private EmbeddedEnvironment(
      EmbeddedKafka kafka, EmbeddedZooKeeper zooKeeper, String kafkaPassword) {
    this.kafka = kafka;
    this.zooKeeper = zooKeeper;
    this.kafkaPassword = kafkaPassword;
  }

  /** A builder; by default one Kafka broker and one ZooKeeper server. */
  public static Builder builder() {
    return new Builder();
  }

  /** Options of an {@link EmbeddedEnvironment}; each is validated when set. Not thread-safe. */
  public static final class Builder {
    private int kafkaBrokers = 1;
    private int zookeeperServers = 1;
    private boolean fastCompaction;
    private boolean kafkaSaslSsl;
    private boolean zookeeperTlsSasl;
    private Path baseDir;
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private final Map<String, String> zookeeperSaslUsers = new LinkedHashMap<>();

    private Builder() {}

    /** See {@link EmbeddedZooKeeper.Builder#saslUser(String, String)}. */
    public Builder zookeeperSaslUser(String user, String password) {
      EmbeddedZooKeeper.builder().saslUser(user, password); // validates both
      zookeeperSaslUsers.put(user, password);
      return this;
    }

    /**
     * See {@link EmbeddedKafka.Builder#saslSsl(boolean)}; the environment also creates the user
     * {@value EmbeddedEnvironment#APPLICATION_USER} with {@link
     * EmbeddedEnvironment#HANDOFF_TOPIC_OPERATIONS} on every topic. Default off.
     */
    public Builder kafkaSaslSsl(boolean on) {
      this.kafkaSaslSsl = on;
      return this;
    }

    /**
     * See {@link EmbeddedZooKeeper.Builder#tlsSasl(boolean)} (and its note on the rest of the JVM).
     * Default off.
     */
    public Builder zookeeperTlsSasl(boolean on) {
      this.zookeeperTlsSasl = on;
      return this;
    }

    /** Kafka brokers, 0 (no Kafka) to 9; default 1. */
    public Builder kafkaBrokers(int n) {
      if (n < 0 || n > 9) {
        throw new IllegalArgumentException("kafkaBrokers must be in 0..9 but was " + n);
      }
      this.kafkaBrokers = n;
      return this;
    }

    /** ZooKeeper servers, 0 (no ZooKeeper) or more; default 1. */
    public Builder zookeeperServers(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("zookeeperServers must be >= 0 but was " + n);
      }
      this.zookeeperServers = n;
      return this;
    }

    /** See {@link EmbeddedKafka.Builder#fastCompaction(boolean)}; default off. */
    public Builder fastCompaction(boolean on) {
      this.fastCompaction = on;
      return this;
    }

    /** See {@link EmbeddedKafka.Builder#brokerProperty(String, String)}. */
    public Builder brokerProperty(String key, String value) {
      if (key == null || key.isBlank()) {
        throw new IllegalArgumentException("broker property key must not be blank");
      }
      brokerProperties.put(key, Objects.requireNonNull(value, () -> "value of " + key));
      return this;
    }

    /** Parent directory of all data (default: {@code java.io.tmpdir}). */
    public Builder baseDir(Path baseDir) {
      this.baseDir = Objects.requireNonNull(baseDir, "baseDir");
      return this;
    }

    /** Starts ZooKeeper and Kafka in parallel; returns once both serve. */
    public EmbeddedEnvironment start() {
      long t0 = System.nanoTime();
      CompletableFuture<EmbeddedZooKeeper> zk =
          zookeeperServers == 0
              ? CompletableFuture.completedFuture(null)
              : CompletableFuture.supplyAsync(this::startZooKeeper, Builder::daemon);
      EmbeddedKafka kafka = null;
      String kafkaPassword = null;
      try {
        kafka = kafkaBrokers == 0 ? null : startKafka();
        if (kafka != null && kafkaSaslSsl) {
          kafkaPassword = randomPassword();
          createApplicationUser(kafka, kafkaPassword);
        }
      } catch (RuntimeException e) {
        closeQuietly(kafka);
        zk.thenAccept(z -> closeQuietly(z));
        throw e;
      }
      try {
        var env = new EmbeddedEnvironment(kafka, zk.join(), kafkaPassword);
        LOG.info("{} started in {} ms", env, (System.nanoTime() - t0) / 1_000_000);
        return env;
      } catch (CompletionException e) {
        closeQuietly(kafka);
        throw e.getCause() instanceof RuntimeException re ? re : e;
      }
    }

    private EmbeddedZooKeeper startZooKeeper() {
      var b = EmbeddedZooKeeper.builder().servers(zookeeperServers).tlsSasl(zookeeperTlsSasl);
      zookeeperSaslUsers.forEach(b::saslUser);
      if (baseDir != null) {
        b.baseDir(baseDir);
      }
      return b.start();
    }

    private EmbeddedKafka startKafka() {
      var b =
          EmbeddedKafka.builder()
              .brokers(kafkaBrokers)
              .fastCompaction(fastCompaction)
              .saslSsl(kafkaSaslSsl);
      brokerProperties.forEach(b::brokerProperty);
      if (baseDir != null) {
        b.baseDir(baseDir);
      }
      return b.start();
    }

    private static void createApplicationUser(EmbeddedKafka kafka, String password) {
      kafka.createUser(APPLICATION_USER, password);
      kafka.allow(
          APPLICATION_USER,
          ResourceType.TOPIC,
          "*",
          PatternType.LITERAL,
          HANDOFF_TOPIC_OPERATIONS.toArray(AclOperation[]::new));
    }

    private static String randomPassword() {
      byte[] random = new byte[16];
      new SecureRandom().nextBytes(random);
      return HexFormat.of().formatHex(random);
    }

    private static void daemon(Runnable r) {
      Thread t = new Thread(r, "embedded-environment-start");
      t.setDaemon(true);
      t.start();
    }
  }

  /** The embedded Kafka. @throws IllegalStateException if built with 0 brokers */
  public EmbeddedKafka kafka() {
    if (kafka == null) {
      throw new IllegalStateException("this environment has no Kafka (kafkaBrokers = 0)");
    }
    return kafka;
  }

  /** The embedded ZooKeeper. @throws IllegalStateException if built with 0 servers */
  public EmbeddedZooKeeper zooKeeper() {
    if (zooKeeper == null) {
      throw new IllegalStateException("this environment has no ZooKeeper (zookeeperServers = 0)");
    }
    return zooKeeper;
  }

  /** The embedded Kafka, if any. */
  public Optional<EmbeddedKafka> kafkaIfPresent() {
    return Optional.ofNullable(kafka);
  }

  /** The embedded ZooKeeper, if any. */
  public Optional<EmbeddedZooKeeper> zooKeeperIfPresent() {
    return Optional.ofNullable(zooKeeper);
  }

  @Override
  public String bootstrapServers() {
    return kafka().bootstrapServers();
  }

  @Override
  public Map<String, Object> kafkaAdminProperties() {
    return kafka().adminProperties();
  }

  /**
   * On SASL_SSL Kafka, the settings of {@value #APPLICATION_USER}; otherwise empty. A new mutable
   * map.
   */
  @Override
  public Map<String, Object> kafkaClientProperties() {
    EmbeddedKafka k = kafka();
    return k.isSaslSsl()
        ? k.clientProperties(APPLICATION_USER, kafkaPassword)
        : new HashMap<String, Object>();
  }

  /** On TLS/SASL ZooKeeper, the settings of {@value #APPLICATION_USER}; otherwise empty. */
  @Override
  public Map<String, String> zookeeperClientProperties() {
    EmbeddedZooKeeper z = zooKeeper();
    return z.isTlsSasl() ? z.clientProperties() : new HashMap<String, String>();
  }

  @Override
  public Optional<Path> zookeeperJaasFile() {
    EmbeddedZooKeeper z = zooKeeper();
    return z.isTlsSasl() ? Optional.of(z.jaasFile()) : Optional.empty();
  }

  @Override
  public int kafkaBrokers() {
    return kafka == null ? 0 : kafka.brokers();
  }

  @Override
  public void stopKafkaBroker(int index) {
    kafka().stopBroker(index);
  }

  @Override
  public void startKafkaBroker(int index) {
    kafka().startBroker(index);
  }

  @Override
  public void restartKafkaBroker(int index) {
    kafka().restartBroker(index);
  }

  @Override
  public String zookeeperConnect() {
    return zooKeeper().connectString();
  }

  @Override
  public int zookeeperServers() {
    return zooKeeper == null ? 0 : zooKeeper.servers();
  }

  @Override
  public void stopZooKeeperServer(int index) {
    zooKeeper().stopServer(index);
  }

  @Override
  public void restartZooKeeperServer(int index) {
    zooKeeper().restartServer(index);
  }

  @Override
  public void expireZooKeeperSession(long sessionId, byte[] password) {
    zooKeeper().expireSession(sessionId, password);
  }

  /** Closes Kafka and ZooKeeper (Kafka first). Idempotent; never throws. */
  @Override
  public void close() {
    closeQuietly(kafka);
    closeQuietly(zooKeeper);
  }

  @Override
  public String toString() {
    return "EmbeddedEnvironment[kafka=" + kafka + ", zooKeeper=" + zooKeeper + "]";
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("error closing {}", c, e);
    }
  }
}
