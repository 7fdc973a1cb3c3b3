package dev.handoff.testkit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.StaticHostProvider;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-side expiry of a ZooKeeper session from the client side, for any ZooKeeper the testkit can
 * reach (in this JVM, in a process or in a container). Not part of the testkit's API.
 *
 * <p>Works by attaching a second client to the same session and closing it: closing a session is
 * what expiry does on the server (its ephemeral nodes go, its owner sees {@code Expired}).
 */
public final class SessionExpiry {
  private static final Logger LOG = LoggerFactory.getLogger(SessionExpiry.class);

  private SessionExpiry() {}

  /**
   * Expires session {@code sessionId} on the ensemble at {@code connectString}; returns once the
   * ensemble reports it expired (at once if it already is).
   *
   * @throws IllegalArgumentException if {@code sessionId} is 0 (a client that never connected)
   * @throws IllegalStateException if no server answers within {@code timeout}
   */
  public static void expire(
      String connectString, long sessionId, byte[] password, Duration timeout) {
    expire(connectString, sessionId, password, timeout, Map.of());
  }

  /**
   * As {@link #expire(String, long, byte[], Duration)}, connecting with these {@code
   * ZKClientConfig} properties (TLS, SASL).
   */
  public static void expire(
      String connectString,
      long sessionId,
      byte[] password,
      Duration timeout,
      Map<String, String> clientProperties) {
    Objects.requireNonNull(connectString, "connectString");
    Objects.requireNonNull(clientProperties, "clientProperties");
    Objects.requireNonNull(password, "password");
    if (sessionId == 0) {
      throw new IllegalArgumentException("sessionId 0 is not a session (client not connected?)");
    }
    for (int attempt = 0; attempt < 5; attempt++) {
      if (attachAndClose(connectString, sessionId, password, timeout, clientProperties)
          == KeeperState.Expired) {
        LOG.info("session 0x{} expired on the server", Long.toHexString(sessionId));
        return;
      }
      // Attached and closed it; the next attempt should see Expired and so confirms it.
    }
    throw new IllegalStateException(
        "session 0x" + Long.toHexString(sessionId) + " still valid after 5 close attempts");
  }

  private static KeeperState attachAndClose(
      String connectString,
      long sessionId,
      byte[] password,
      Duration timeout,
      Map<String, String> clientProperties) {
    var config = new ZKClientConfig();
    clientProperties.forEach(config::setProperty);
    var state = new CompletableFuture<KeeperState>();
    ZooKeeper zk;
    try {
      zk =
          new ZooKeeper(
              connectString,
              10_000,
              event -> {
                if (event.getState() == KeeperState.SyncConnected
                    || event.getState() == KeeperState.Expired) {
                  state.complete(event.getState());
                }
              },
              sessionId,
              password,
              false,
              new StaticHostProvider(new ConnectStringParser(connectString).getServerAddresses()),
              config);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot connect to " + connectString, e);
    }
    try {
      return state.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "no ZooKeeper server at " + connectString + " answered within " + timeout, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while expiring a session", e);
    } finally {
      try {
        // Blocks until the server has processed closeSession: that is the expiry.
        zk.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
