package dev.handoff.testkit;

/** Ports for servers a test starts itself (a docker-compose stack, say), on 127.0.0.1 only. */
public final class FreePorts {
  private FreePorts() {}

  /**
   * Returns {@code count} distinct ports that were free on 127.0.0.1 a moment ago (they are held
   * open together while being chosen, then released; another process may still take one).
   *
   * @throws java.io.UncheckedIOException if no port can be bound on 127.0.0.1
   */
  public static int[] onLoopback(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1, was " + count);
    }
    return Loopback.freePorts(count);
  }
}
