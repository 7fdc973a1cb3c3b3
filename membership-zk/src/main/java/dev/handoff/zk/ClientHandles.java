package dev.handoff.zk;

import java.util.function.LongSupplier;
import org.apache.curator.utils.DefaultZookeeperFactory;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * Makes the ZooKeeper client handles for Curator (one per session), so that:
 *
 * <ul>
 *   <li>the client's own threads (send/heartbeat and event thread, which ZooKeeper starts in the
 *       handle's constructor and which inherit the creating thread's priority) run at {@link
 *       Thread#MAX_PRIORITY}, where the JVM maps Java priorities to the operating system (Windows;
 *       Linux only with {@code -XX:ThreadPriorityPolicy=1} and the right to raise priorities).
 *       Elsewhere the fair scheduler still runs these mostly sleeping threads soon after they wake,
 *       which is what keeps a session alive on a saturated CPU;
 *   <li>the {@link Lease} knows when the current handle was made: a new session's lease runs from
 *       then.
 * </ul>
 */
final class ClientHandles implements ZookeeperFactory {

  /** A handle and the monotonic time just before it was made. */
  private record Made(ZooKeeper handle, long nanos) {}

  private final ZookeeperFactory delegate = new DefaultZookeeperFactory();
  private final LongSupplier nanoTime;
  private volatile Made latest;

  ClientHandles(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  @Override
  public ZooKeeper newZooKeeper(
      String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly)
      throws Exception {
    return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, null);
  }

  @Override
  public ZooKeeper newZooKeeper(
      String connectString,
      int sessionTimeout,
      Watcher watcher,
      boolean canBeReadOnly,
      ZKClientConfig config)
      throws Exception {
    long before = nanoTime.getAsLong();
    var thread = Thread.currentThread();
    int priority = thread.getPriority();
    thread.setPriority(Thread.MAX_PRIORITY);
    try {
      var handle =
          delegate.newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, config);
      latest = new Made(handle, before);
      return handle;
    } finally {
      thread.setPriority(priority);
    }
  }

  /** When {@code handle} was made (a lower bound), or null if it is not the latest handle. */
  Long createdNanos(ZooKeeper handle) {
    var made = latest;
    return made != null && made.handle() == handle ? made.nanos() : null;
  }
}
