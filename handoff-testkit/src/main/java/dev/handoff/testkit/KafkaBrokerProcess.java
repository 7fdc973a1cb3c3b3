package dev.handoff.testkit;

import dev.handoff.testkit.internal.BrokerProcessMain;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka broker (KRaft, broker and controller in one node) in a separate JVM, for tests that
 * need what only a process gives: {@code kill -9}, SIGTERM with Kafka's own shutdown hook, a cold
 * restart with log recovery.
 *
 * <p>The child JVM (a {@link JvmProcess}) runs with the classpath of this JVM ({@code
 * java.class.path}), binds to 127.0.0.1 on free ports chosen once, keeps its data in the given
 * directory and writes its output to {@code broker.log} there. It halts by itself if this JVM dies.
 * Methods are thread-safe (serialised on this object) and block until the broker serves or has
 * exited.
 */
public final class KafkaBrokerProcess implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaBrokerProcess.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final boolean ownsDataDir;
  private final Path config;
  private final int brokerPort;
  private final int controllerPort;
  private JvmProcess process;
  private boolean closed;

  private KafkaBrokerProcess(Path dataDir, boolean ownsDataDir) {
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    int[] ports = Loopback.freePorts(2);
    this.brokerPort = ports[0];
    this.controllerPort = ports[1];
    Properties props =
        EmbeddedKafka.brokerProperties(
            0, brokerPort, controllerPort, "0@" + Loopback.HOST + ":" + controllerPort, dataDir, 1);
    props.setProperty("log.cleaner.backoff.ms", "200");
    // After kill -9 the restarted broker must wait for its old registration's session to end
    // (9 s by default) before it may register again; a short session keeps restarts quick.
    props.setProperty("broker.heartbeat.interval.ms", "500");
    props.setProperty("broker.session.timeout.ms", "3000");
    EmbeddedKafka.format(props, Uuid.randomUuid().toString(), dataDir);
    this.config = dataDir.resolve("server.properties");
  }

  /**
   * Formats {@code dataDir} (created if missing; kept on close) and starts a broker on it; returns
   * once it serves.
   *
   * @throws IllegalStateException if the broker exits or does not serve within 90 s
   */
  public static KafkaBrokerProcess start(Path dataDir) {
    Objects.requireNonNull(dataDir, "dataDir");
    var broker = new KafkaBrokerProcess(dataDir, false);
    broker.launchAndAwait();
    return broker;
  }

  /** Like {@link #start(Path)} with a fresh directory under java.io.tmpdir, deleted on close. */
  public static KafkaBrokerProcess start() {
    var broker = new KafkaBrokerProcess(Loopback.newTempDir(null, "kafka-process-"), true);
    broker.launchAndAwait();
    return broker;
  }

  /** {@code 127.0.0.1:<port>}; the same across restarts. */
  public String bootstrapServers() {
    return Loopback.HOST + ":" + brokerPort;
  }

  /** The data directory (also holds {@code server.properties} and {@code broker.log}). */
  public Path dataDir() {
    return dataDir;
  }

  /** True if the broker's JVM is running. */
  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** The operating-system id of the broker's current JVM. */
  public synchronized long pid() {
    if (process == null) {
      throw new IllegalStateException("broker process is not started");
    }
    return process.pid();
  }

  /** Sends SIGTERM (Kafka shuts down cleanly) and waits for the JVM to exit. */
  public synchronized void sigterm() {
    stop(false);
  }

  /** Sends SIGKILL ({@code kill -9}: no shutdown at all) and waits for the JVM to exit. */
  public synchronized void sigkill() {
    stop(true);
  }

  /**
   * Starts the broker again with the same data directory and ports (SIGTERM first if it runs);
   * returns once it serves.
   */
  public synchronized void restart() {
    checkOpen();
    stop(false);
    Loopback.waitUntil(
        "ports " + brokerPort + "/" + controllerPort + " to be free",
        READY_TIMEOUT,
        () -> Loopback.isFree(brokerPort) && Loopback.isFree(controllerPort));
    launchAndAwait();
  }

  /** Stops the broker (SIGTERM, then SIGKILL after 60 s). Idempotent; never throws. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stop(false);
    } catch (RuntimeException e) {
      LOG.warn("error stopping broker process", e);
    }
    if (ownsDataDir) {
      try {
        Loopback.deleteTree(dataDir);
      } catch (IOException e) {
        LOG.warn("cannot delete {}", dataDir, e);
      }
    }
  }

  @Override
  public String toString() {
    return "KafkaBrokerProcess[" + bootstrapServers() + ", " + dataDir + "]";
  }

  private void launchAndAwait() {
    long t0 = System.nanoTime();
    long[] listeningAt = {0};
    process =
        JvmProcess.builder(BrokerProcessMain.class)
            .name("Kafka broker process at " + bootstrapServers())
            .maxHeapMegabytes(384)
            .systemProperty("java.io.tmpdir", dataDir.toAbsolutePath().toString())
            .args(config.toAbsolutePath().toString())
            .logFile(dataDir.resolve("broker.log"))
            .readyWhen(
                () -> {
                  if (listeningAt[0] == 0 && Loopback.isListening(brokerPort)) {
                    listeningAt[0] = System.nanoTime();
                  }
                  return listeningAt[0] != 0 && registered();
                })
            .start();
    process.awaitReady(READY_TIMEOUT);
    LOG.info(
        "Kafka broker process {} serving at {} after {} ms (port open after {} ms)",
        process.pid(),
        bootstrapServers(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        TimeUnit.NANOSECONDS.toMillis(listeningAt[0] - t0));
  }

  private boolean registered() {
    var props =
        Map.<String, Object>of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
    try (Admin admin = Admin.create(props)) {
      return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  private void stop(boolean kill) {
    JvmProcess p = process;
    if (p == null) {
      return;
    }
    try {
      if (p.isAlive()) {
        if (kill) {
          p.sigkill();
        } else {
          // As Process.destroy() has always done here: SIGTERM, then the input closes at once.
          p.sigterm();
          p.closeInput();
        }
        if (!p.awaitExit(EXIT_TIMEOUT)) {
          LOG.warn("broker process {} ignored SIGTERM for {}; killing it", p.pid(), EXIT_TIMEOUT);
          p.sigkill();
          p.awaitExit(EXIT_TIMEOUT);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.sigkill();
      throw new IllegalStateException("interrupted while stopping broker process " + p.pid(), e);
    } finally {
      p.closeInput();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }
}
