package dev.handoff.zk;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on 127.0.0.1 in front of one ZooKeeper server, so that a test can cut one client off
 * as a network partition would: {@link #cutOff()} silently drops every byte both ways (no reset, so
 * the client only notices by its own timeouts, and the server hears nothing from the session);
 * {@link #restore()} closes the connections that lost bytes and lets new ones through again.
 */
final class CutOffProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile boolean closed;

  CutOffProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    var acceptor = new Thread(this::acceptLoop, "cut-off-proxy-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  String connectString() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** From now on, nothing passes in either direction. */
  void cutOff() {
    cut = true;
  }

  /** Closes the connections that were cut off; new connections pass again. */
  void restore() {
    cut = false;
    sockets.forEach(CutOffProxy::closeQuietly);
    sockets.clear();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    sockets.forEach(CutOffProxy::closeQuietly);
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        var client = server.accept();
        sockets.add(client);
        Socket upstream = null;
        if (!cut) {
          upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
          sockets.add(upstream);
        }
        pipe(client, upstream);
        if (upstream != null) {
          pipe(upstream, client);
        }
      } catch (IOException e) {
        if (!closed) {
          sleepBriefly();
        }
      }
    }
  }

  /** Copies {@code from} to {@code to} (null: nowhere) while not cut off; drops bytes while cut. */
  private void pipe(Socket from, Socket to) {
    var t =
        new Thread(
            () -> {
              var buffer = new byte[8192];
              try (InputStream in = from.getInputStream()) {
                OutputStream out = to == null ? null : to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  if (!cut && out != null) {
                    out.write(buffer, 0, n);
                    out.flush();
                  }
                }
              } catch (IOException e) {
                // closed
              } finally {
                closeQuietly(from);
                if (to != null) {
                  closeQuietly(to);
                }
              }
            },
            "cut-off-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // already closed
    }
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(10); // only after a failed accept, to avoid spinning
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
