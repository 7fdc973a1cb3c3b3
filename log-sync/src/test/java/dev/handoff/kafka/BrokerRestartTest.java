package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Durability of acknowledged appends across a broker restart (its own broker: it restarts it). */
class BrokerRestartTest {

  @Test
  void aBrokerRestartWhilePublishingLosesNoAcknowledgedRecord() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().brokers(1).start()) {
      publishThroughRestarts(kafka, 1);
    }
  }

  @Test
  void restartingABrokerOfThreeWhilePublishingLosesNoAcknowledgedRecord() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().brokers(3).start()) {
      publishThroughRestarts(kafka, 3);
    }
  }

  /** Publishes without pause while broker 0 is restarted; checks every acknowledged record. */
  private static void publishThroughRestarts(EmbeddedKafka kafka, int replication)
      throws Exception {
    var builder =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic("restart")
            .partitions(3)
            .replicationFactor(replication)
            .requestTimeout(Duration.ofSeconds(20));
    var sink = new Recorder();
    Set<Integer> acked = ConcurrentHashMap.newKeySet();
    AtomicInteger failed = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    try (KafkaDeltaLog log = builder.build()) {
      log.start(sink).get(30, TimeUnit.SECONDS);
      var inFlight = new Semaphore(50);
      CompletableFuture<Void> publisher =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; !stop.get(); i++) {
                  inFlight.acquireUninterruptibly();
                  int n = i;
                  var state = new SlotState(1, SlotState.SELF, n, n, new byte[] {(byte) n}, false);
                  log.append(new SlotRecord("s" + n, "w#1", state))
                      .whenComplete(
                          (pos, e) -> {
                            if (e == null) {
                              acked.add(n);
                            } else {
                              failed.incrementAndGet();
                            }
                            inFlight.release();
                          });
                }
                inFlight.acquireUninterruptibly(50);
              });
      await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= 300);
      // With three brokers, restarting one moves partition leadership (RF 3, min ISR 2).
      kafka.restartBroker(0);
      int afterRestart = acked.size();
      await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= afterRestart + 300);
      stop.set(true);
      publisher.get(150, TimeUnit.SECONDS);

      // The running reader survived the restart and sees every acknowledged record.
      log.barrier().get(60, TimeUnit.SECONDS);
      Set<String> seen = sink.writes();
      assertThat(acked.stream().filter(n -> !seen.contains("s" + n + "/w#1/" + n)))
          .as("acknowledged records missing from the live reader")
          .isEmpty();
      assertThat(log.failureCause()).isEmpty();
    }
    // A node replaying from scratch also finds every acknowledged record.
    var replayed = new Recorder();
    try (KafkaDeltaLog fresh = builder.build()) {
      fresh.start(replayed).get(30, TimeUnit.SECONDS);
      Set<String> found = replayed.writes();
      assertThat(acked.stream().filter(n -> !found.contains("s" + n + "/w#1/" + n)))
          .as("acknowledged records missing from the replay")
          .isEmpty();
    }
    assertThat(acked).hasSizeGreaterThan(600);
  }
}
