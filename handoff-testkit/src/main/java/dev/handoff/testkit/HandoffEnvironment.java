package dev.handoff.testkit;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.ZooKeeper;

/**
 * The Kafka and ZooKeeper a Handoff test runs against, with the faults a test may inject.
 *
 * <p>Implementations: {@link EmbeddedEnvironment} (servers inside the test JVM) and {@code
 * containers.TestcontainersEnvironment} (servers in Docker containers). Either part may be absent
 * (an environment with only ZooKeeper, or only Kafka): its methods then throw {@link
 * IllegalStateException}. Indexes of brokers and servers run from 0. Fault methods block until the
 * fault is in effect (a stopped broker no longer serves, a restarted one serves again) and are safe
 * to call from any thread.
 */
public interface HandoffEnvironment extends AutoCloseable {

  /** Kafka's bootstrap servers, stable for the environment's life. */
  String bootstrapServers();

  /** Properties for a Kafka {@code Admin} client; a new mutable map. */
  Map<String, Object> kafkaAdminProperties();

  /**
   * Kafka client properties of the application's identity, for {@code
   * KafkaDeltaLog.Builder#clientProperties}: security settings on a secured cluster ({@code
   * security.protocol}, {@code sasl.*}, {@code ssl.truststore.*}), empty on a plain one. A new
   * mutable map.
   */
  default Map<String, Object> kafkaClientProperties() {
    return new HashMap<>();
  }

  /**
   * {@code ZKClientConfig} properties of the application's ZooKeeper identity (TLS and SASL on a
   * secured ensemble), empty on a plain one. A new mutable map.
   */
  default Map<String, String> zookeeperClientProperties() {
    return new HashMap<>();
  }

  /**
   * The JAAS file a ZooKeeper client in another JVM needs ({@code
   * -Djava.security.auth.login.config}) for {@link #zookeeperClientProperties()}, if the ensemble
   * uses SASL.
   */
  default Optional<Path> zookeeperJaasFile() {
    return Optional.empty();
  }

  /** Number of Kafka brokers (running or stopped); 0 if there is no Kafka. */
  int kafkaBrokers();

  /** Shuts Kafka broker {@code index} down cleanly, keeping its data. */
  void stopKafkaBroker(int index);

  /** Starts a stopped Kafka broker again with its old ports and data. */
  void startKafkaBroker(int index);

  /** Stops then starts Kafka broker {@code index}. */
  void restartKafkaBroker(int index);

  /** ZooKeeper's connect string, stable for the environment's life. */
  String zookeeperConnect();

  /** Number of ZooKeeper servers (running or stopped); 0 if there is no ZooKeeper. */
  int zookeeperServers();

  /** Stops ZooKeeper server {@code index}, keeping its data. */
  void stopZooKeeperServer(int index);

  /** Starts ZooKeeper server {@code index} again (stopping it first if it runs). */
  void restartZooKeeperServer(int index);

  /**
   * Expires a ZooKeeper session on the server side: its ephemeral nodes go and its owner sees
   * {@code Expired}. Returns once the ensemble reports the session expired.
   */
  void expireZooKeeperSession(long sessionId, byte[] password);

  /**
   * Expires the current session of a raw ZooKeeper client; see {@link #expireZooKeeperSession(long,
   * byte[])}.
   */
  default void expireZooKeeperSession(ZooKeeper client) {
    Objects.requireNonNull(client, "client");
    expireZooKeeperSession(client.getSessionId(), client.getSessionPasswd());
  }

  /**
   * Expires the current session of a started Curator client; see {@link
   * #expireZooKeeperSession(long, byte[])}.
   */
  default void expireZooKeeperSession(CuratorFramework client) {
    Objects.requireNonNull(client, "client");
    try {
      expireZooKeeperSession(client.getZookeeperClient().getZooKeeper());
    } catch (IllegalStateException | IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Curator client has no ZooKeeper handle", e);
    }
  }

  /** Stops everything and removes its data. Idempotent; never throws. */
  @Override
  void close();
}
