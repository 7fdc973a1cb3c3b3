package dev.handoff.zk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.curator.retry.RetryNTimes;

/** Builds members for tests with short timeouts, and closes them all afterwards. */
final class Members implements AutoCloseable {
  private final List<ZkMembership> all = new ArrayList<>();

  ZkMembership create(
      String connectString, String group, String id, UnaryOperator<ZkMembershipBuilder> tweak) {
    var builder =
        ZkMembership.builder()
            .connectString(connectString)
            .root("/handoff-test")
            .group(group)
            .memberId(id)
            .host("127.0.0.1")
            .version("1.0")
            .sessionTimeout(Duration.ofSeconds(4))
            .connectionTimeout(Duration.ofSeconds(2))
            .startTimeout(Duration.ofSeconds(20))
            .retryPolicy(new RetryNTimes(30, 100))
            .digestAuth("handoff", "secret");
    var m = tweak.apply(builder).build();
    all.add(m);
    return m;
  }

  ZkMembership create(String connectString, String group, String id) {
    return create(connectString, group, id, b -> b);
  }

  @Override
  public void close() {
    all.forEach(ZkMembership::close);
    all.clear();
  }
}
