package dev.handoff.zk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.curator.retry.RetryNTimes;

/** Builds members for tests with short timeouts, and closes them all afterwards. */
final class Members implements AutoCloseable {
  private final List<ZkMembership> all = new ArrayList<>();

  /** {@code tweak} sets the test's own options first; the defaults fill in the rest. */
  ZkMembership create(
      String connectString, String group, String id, UnaryOperator<ZkMembershipBuilder> tweak) {
    var builder = tweak.apply(ZkMembership.builder().connectString(connectString).memberId(id));
    orDefault(() -> builder.root("/handoff-test"));
    orDefault(() -> builder.group(group));
    orDefault(() -> builder.host("127.0.0.1"));
    orDefault(() -> builder.version("1.0"));
    orDefault(() -> builder.sessionTimeout(Duration.ofSeconds(4)));
    orDefault(() -> builder.connectionTimeout(Duration.ofSeconds(2)));
    orDefault(() -> builder.startTimeout(Duration.ofSeconds(20)));
    orDefault(() -> builder.retryPolicy(new RetryNTimes(30, 100)));
    orDefault(() -> builder.digestAuth("handoff", "secret"));
    var m = builder.build();
    all.add(m);
    return m;
  }

  ZkMembership create(String connectString, String group, String id) {
    return create(connectString, group, id, b -> b);
  }

  /** Options are set once: one the test already set stays. */
  private static void orDefault(Runnable setDefault) {
    try {
      setDefault.run();
    } catch (IllegalStateException setByTheTest) {
      // keep the test's value
    }
  }

  @Override
  public void close() {
    all.forEach(ZkMembership::close);
    all.clear();
  }
}
