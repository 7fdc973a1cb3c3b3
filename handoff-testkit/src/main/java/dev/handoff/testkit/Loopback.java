package dev.handoff.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Small shared helpers of the testkit: loopback ports, temp directories, polling. */
final class Loopback {
  static final InetAddress ADDRESS = InetAddress.getLoopbackAddress();
  static final String HOST = "127.0.0.1";

  private Loopback() {}

  /** Returns {@code count} distinct ports that were free on 127.0.0.1 a moment ago. */
  static int[] freePorts(int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        // Held open together so the same port is not handed out twice.
        held.add(new ServerSocket(0, 1, ADDRESS));
      }
      return held.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free ports on 127.0.0.1", e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // nothing to do: the port stays free either way
        }
      }
    }
  }

  /** True if nothing listens on the port (a bind on 127.0.0.1 succeeds). */
  static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(ADDRESS, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** True if something accepts TCP connections on the port. */
  static boolean isListening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(ADDRESS, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Polls {@code condition} every 20 ms until it holds; throws {@link IllegalStateException} naming
   * {@code what} after {@code timeout}.
   */
  static void waitUntil(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      }
    }
  }

  /** Creates a fresh directory under {@code parent}, or under java.io.tmpdir if null. */
  static Path newTempDir(Path parent, String prefix) {
    try {
      Path base = parent != null ? parent : Path.of(System.getProperty("java.io.tmpdir"));
      Files.createDirectories(base);
      return Files.createTempDirectory(base, prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temp directory under " + parent, e);
    }
  }

  /** Deletes a directory tree; missing files are fine, other failures are logged by caller. */
  static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
            deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static void deleteIfExists(Path p) throws IOException {
    try {
      Files.deleteIfExists(p);
    } catch (NoSuchFileException ignored) {
      // deleted concurrently (e.g. a server cleaning its own files)
    }
  }
}
