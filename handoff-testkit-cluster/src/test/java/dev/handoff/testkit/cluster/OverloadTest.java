package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.testkit.EmbeddedEnvironment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node in its own JVM (the library's defaults) on real Kafka and ZooKeeper is offered stashes at
 * twice and five times what it sustains: it stays RUNNING, its ZooKeeper session never expires (no
 * LOST, no re-registration, the same writer id), its heap after GC stays within its bounds, every
 * stash completes either successfully or with {@code Overloaded}, and after a roll right after
 * (SIGTERM, a new JVM with the same member id picks up every session) each session's state is at
 * least as new as the last one acknowledged to its caller, and one that was offered.
 *
 * <p>CI runs a short, small version: 4,000 sessions of 1 KiB in {@code -Xmx256m}, {@code
 * maxPendingBytes} 1 MiB (so that backpressure engages at this size), 8 s per load. {@code
 * -Dhandoff.overload.long=true} runs the version: 50,000 sessions of 1 KiB in {@code
 * -Xmx384m}, the default {@code maxPendingBytes}, 60 s per load.
 */
class OverloadTest {

  private static final boolean LONG = Boolean.getBoolean("handoff.overload.long");
  private static final int SESSIONS = LONG ? 50_000 : 4_000;
  private static final int STATE_BYTES = 1024;
  private static final long MAX_PENDING = LONG ? 0 : 1 << 20; // 0: the library's default
  private static final int CALIBRATE_SECONDS = LONG ? 10 : 4;
  private static final int LOAD_SECONDS = LONG ? 60 : 8;
  // The demo's sizing rule (2.5 × what the node holds; DemoOptions.nodeHeapFor): with 50,000
  // sessions (72 MiB of replica) in 256 MiB, SerialGC spent half of a 2× load in full collections.
  private static final int HEAP_MEGABYTES = LONG ? 384 : 256;

  private static EmbeddedEnvironment env;
  private static final Path DIR = Path.of("target", "overload");

  @BeforeAll
  static void startServers() throws Exception {
    Files.createDirectories(DIR);
    env = EmbeddedEnvironment.builder().kafkaBrokers(1).zookeeperServers(1).start();
  }

  @AfterAll
  static void stopServers() {
    env.close();
  }

  private static NodeConfig config(String topic, String memberId) {
    return new NodeConfig(
        env.bootstrapServers(),
        env.zookeeperConnect(),
        topic,
        6,
        1,
        memberId,
        Duration.ofSeconds(15), // the library's default
        Duration.ofHours(1),
        Map.of());
  }

  @Test
  void atTwiceAndFiveTimesWhatItSustainsTheNodeBendsAndEveryAcknowledgedStateSurvivesARoll()
      throws Exception {
    String topic = "overload-" + System.nanoTime();
    Path acked = DIR.resolve(topic + "-acked.txt");
    Path picked = DIR.resolve(topic + "-picked.txt");
    var results = new StringBuilder();
    try (var node =
        new OverloadNode(
            config(topic, "node-1"),
            SESSIONS,
            STATE_BYTES,
            MAX_PENDING,
            HEAP_MEGABYTES,
            DIR.resolve(topic + "-node-1.log"))) {
      var ready = node.ready();
      assertThat(node.call("create", "CREATED", Duration.ofMinutes(3)))
          .isEqualTo("CREATED " + SESSIONS);
      // The node's heap with every session held, before any load.
      long idle = Long.parseLong(node.call("gc", "GC", Duration.ofMinutes(1)).split(" ")[1]);
      long rate =
          Long.parseLong(
              node.call("calibrate " + CALIBRATE_SECONDS, "CALIBRATED", Duration.ofMinutes(3))
                  .split(" ")[1]);
      assertThat(rate).as("stashes/s the node sustains").isPositive();
      results.append(
          String.format(
              "%n%,d sessions × %d B; sustains %,d stashes/s; maxPendingBytes %,d, memoryBudget"
                  + " %,d, max heap %,d, heap after GC at rest %,d",
              SESSIONS,
              STATE_BYTES,
              rate,
              ready.maxPendingBytes(),
              ready.memoryBudget(),
              ready.maxHeap(),
              idle));
      // Bound on the heap: what it holds at rest, plus what load may add by design: states queued
      // or in flight (maxPendingBytes), as many not looked at yet, about as much again in the
      // objects of those writes, 8 MiB of read-back records waiting for the owner thread, and the
      // client buffers (memoryBudget); in any case 90% of the max heap.
      long bound = idle + 3 * ready.maxPendingBytes() + (8 << 20) + ready.memoryBudget();
      for (int factor : new int[] {2, 5}) {
        int heapBefore = node.heapReadings().size();
        String line =
            node.call(
                "load " + factor * rate + " " + LOAD_SECONDS + " " + acked.toAbsolutePath(),
                "LOADED",
                Duration.ofSeconds(LOAD_SECONDS + 240));
        var s = OverloadNode.Stats.parse(line);
        node.call("gc", "GC", Duration.ofMinutes(1)); // what is left right after the load
        List<Long> during = node.heapReadings().subList(heapBefore, node.heapReadings().size());
        long peak = during.stream().mapToLong(Long::longValue).max().orElse(0);
        double offeredRate = s.number("offered") / s.decimal("seconds");
        results.append(
            String.format(
                "%n%d× (%,d/s asked; offered %,.0f/s = %.1f× for %.1f s): %,d ok (%,.0f/s), %,d"
                    + " overloaded, %,d failed; ack p50 %.1f ms, p99 %.1f ms; heap peak %,d (bound"
                    + " %,d); lost %d, suspended %d, re-registered %d",
                factor,
                factor * rate,
                offeredRate,
                offeredRate / rate,
                s.decimal("seconds"),
                s.number("ok"),
                s.number("ok") / s.decimal("seconds"),
                s.number("overloaded"),
                s.number("failed"),
                s.decimal("p50ms"),
                s.decimal("p99ms"),
                peak,
                bound,
                s.number("lost"),
                s.number("suspended"),
                s.number("reregistered")));
        System.out.println("overload: " + line);
        // The generator shares the node's cores: on a loaded machine it may fall short of the
        // rate asked, but the node must be offered well beyond what it sustains.
        assertThat(offeredRate).as("offered rate: " + line).isGreaterThan(1.5 * rate);
        assertThat(s.number("failed")).as(line + " " + node.failures()).isZero();
        assertThat(s.number("unfinished")).as(line).isZero();
        assertThat(s.number("ok") + s.number("overloaded")).as(line).isEqualTo(s.number("offered"));
        assertThat(s.number("ok")).as(line).isPositive();
        assertThat(s.text("running")).as("RUNNING throughout: " + line).isEqualTo("true");
        assertThat(s.text("state")).as(line).isEqualTo("RUNNING");
        assertThat(s.text("writer")).as("same incarnation: " + line).isEqualTo(ready.writerId());
        assertThat(s.number("lost")).as("ZooKeeper session never lost: " + line).isZero();
        assertThat(s.number("reregistered")).as(line).isZero();
        assertThat(during).as("heap readings during the load").isNotEmpty();
        assertThat(peak).as("heap after GC during %d× load", factor).isLessThanOrEqualTo(bound);
        assertThat(peak).isLessThan((long) (ready.maxHeap() * 0.9));
        if (factor == 5) {
          // Five times its rate cannot all be queued: some callers are told so.
          assertThat(s.number("overloaded")).as(line).isPositive();
        }
      }
      node.sigterm();
    }
    // The roll: a new JVM with the same member id takes every session over.
    try (var next =
        new OverloadNode(
            config(topic, "node-1"),
            SESSIONS,
            STATE_BYTES,
            MAX_PENDING,
            HEAP_MEGABYTES,
            DIR.resolve(topic + "-node-1-next.log"))) {
      String line = next.call("pickup " + picked.toAbsolutePath(), "PICKED", Duration.ofMinutes(5));
      assertThat(line).as(String.valueOf(next.failures())).isEqualTo("PICKED " + SESSIONS + " 0");
    }
    Map<String, Long> lastAcked = versions(acked);
    Map<String, Long> pickedUp = versions(picked);
    assertThat(lastAcked).hasSize(SESSIONS);
    int newer = 0;
    for (var e : lastAcked.entrySet()) {
      long got = pickedUp.get(e.getKey());
      assertThat(got)
          .as(
              "session %s: picked up version %d, last acknowledged %d",
              e.getKey(), got, e.getValue())
          .isGreaterThanOrEqualTo(e.getValue());
      if (got > e.getValue()) {
        newer++;
      }
    }
    results.append(
        String.format(
            "%nroll: %,d sessions picked up, each at its last acknowledged version or newer (%,d"
                + " newer: in flight at SIGTERM)",
            SESSIONS, newer));
    System.out.println("OverloadTest results:" + results);
  }

  private static Map<String, Long> versions(Path file) throws Exception {
    var m = new HashMap<String, Long>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String[] p = line.split(" ");
      m.put(p[0], Long.parseLong(p[1]));
    }
    return m;
  }
}
