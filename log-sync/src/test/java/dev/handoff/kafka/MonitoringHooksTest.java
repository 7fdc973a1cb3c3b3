package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What KafkaDeltaLog tells monitoring: its clients, their ids, replay progress and lag. */
class MonitoringHooksTest {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.builder().brokers(1).start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  private static KafkaDeltaLogBuilder logOn(String topic) {
    return KafkaDeltaLog.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topic(topic)
        .partitions(2)
        .replicationFactor(1);
  }

  private static String clientIdOf(java.util.Map<org.apache.kafka.common.MetricName, ?> metrics) {
    return metrics.keySet().stream()
        .map(n -> n.tags().get("client-id"))
        .filter(id -> id != null)
        .findFirst()
        .orElseThrow();
  }

  @Test
  void clientsAreNamedAfterTheNodeAndHandedToListenersOnceTheyExist() throws Exception {
    try (var log = logOn("hooks-named").clientIdsFor("games", "node-7").build()) {
      var seen = new CopyOnWriteArrayList<KafkaDeltaLog.Clients>();
      log.onClients(seen::add);
      assertThat(log.clients()).isEmpty();
      assertThat(log.readerLag()).isEqualTo(-1);
      log.start(e -> {}).get(30, TimeUnit.SECONDS);

      assertThat(seen).hasSize(1);
      var clients = log.clients().orElseThrow();
      assertThat(clientIdOf(clients.producer().metrics()))
          .isEqualTo("handoff-games-node-7-producer");
      assertThat(clientIdOf(clients.reader().metrics())).isEqualTo("handoff-games-node-7-reader");
      assertThat(clientIdOf(clients.admin().metrics())).isEqualTo("handoff-games-node-7-admin");
      var late = new CopyOnWriteArrayList<KafkaDeltaLog.Clients>();
      log.onClients(late::add);
      assertThat(late).containsExactly(clients);
    }
  }

  @Test
  void twoLogsOnOneTopicInOneJvmGetDistinctDefaultClientIds() throws Exception {
    try (var a = logOn("hooks-default").build();
        var b = logOn("hooks-default").build()) {
      a.start(e -> {}).get(30, TimeUnit.SECONDS);
      b.start(e -> {}).get(30, TimeUnit.SECONDS);
      var ids = new HashSet<String>();
      for (var log : List.of(a, b)) {
        var c = log.clients().orElseThrow();
        ids.add(clientIdOf(c.producer().metrics()));
        ids.add(clientIdOf(c.reader().metrics()));
        ids.add(clientIdOf(c.admin().metrics()));
      }
      assertThat(ids).hasSize(6).allMatch(id -> id.startsWith("handoff-hooks-default-"));
    }
  }

  @Test
  void readerProgressIsCompleteOnceReadyAndLagFollowsTheTopic() throws Exception {
    try (var log = logOn("hooks-lag").build()) {
      log.start(e -> {}).get(30, TimeUnit.SECONDS);
      for (int i = 0; i < 20; i++) {
        log.append(
                new SlotRecord(
                    "s" + i, "node-1#1", new SlotState(1, -1, i + 1, 1, new byte[] {1}, false)))
            .get(30, TimeUnit.SECONDS);
      }
      log.barrier().get(30, TimeUnit.SECONDS);
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                var progress = log.readerProgress();
                assertThat(progress.replayPercent()).isEqualTo(100.0);
                assertThat(progress.lag()).isZero();
              });
    }
  }

  @Test
  void clientIdsForRefusesBlankNamesAndASecondCall() {
    assertThatThrownBy(() -> logOn("x").clientIdsFor(" ", "m"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("clientIdsFor group");
    var b = logOn("x").clientIdsFor("g", "m");
    assertThatThrownBy(() -> b.clientIdsFor("g", "n"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clientIdsFor");
  }
}
