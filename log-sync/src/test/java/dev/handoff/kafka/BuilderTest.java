package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BuilderTest {

  @Test
  void defaultsAreCompactOnlyAndDurable() {
    LogSettings s = KafkaDeltaLog.builder().bootstrapServers("127.0.0.1:9092").build().settings;
    assertThat(s.topic()).isEqualTo("handoff-sessions");
    assertThat(s.partitions()).isEqualTo(12);
    assertThat(s.replicationFactor()).isEqualTo((short) 3);
    assertThat(s.topicConfigs())
        .containsEntry("cleanup.policy", "compact")
        .containsEntry("min.insync.replicas", "2")
        .containsEntry("min.compaction.lag.ms", "0")
        .containsEntry("segment.ms", "3600000")
        .containsEntry("segment.bytes", Integer.toString(64 * 1024 * 1024));
  }

  @Test
  void optionsAreValidatedWithTheirName() {
    var b = KafkaDeltaLog.builder();
    assertThatThrownBy(() -> b.partitions(0)).hasMessageContaining("partitions");
    assertThatThrownBy(() -> b.replicationFactor(0)).hasMessageContaining("replicationFactor");
    assertThatThrownBy(() -> b.topic(" ")).hasMessageContaining("topic");
    assertThatThrownBy(() -> b.minCompactionLag(Duration.ofSeconds(-1)))
        .hasMessageContaining("minCompactionLag");
    assertThatThrownBy(() -> b.topicConfig("cleanup.policy", "compact,delete"))
        .hasMessageContaining("cleanup.policy=compact,delete");
    assertThatThrownBy(() -> b.maxStateBytes(0)).hasMessageContaining("maxStateBytes");
    assertThatThrownBy(() -> KafkaDeltaLog.builder().build())
        .hasMessageContaining("bootstrapServers");
    assertThatThrownBy(
            () ->
                KafkaDeltaLog.builder()
                    .bootstrapServers("x:1")
                    .replicationFactor(1)
                    .minInSyncReplicas(2)
                    .build())
        .hasMessageContaining("minInSyncReplicas=2");
  }

  @Test
  void clientPropertiesThatWeakenGuaranteesAreRefused() {
    var b = KafkaDeltaLog.builder();
    assertThatThrownBy(() -> b.clientProperty("acks", "1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("acks=1");
    assertThatThrownBy(() -> b.clientProperty("enable.idempotence", false))
        .hasMessageContaining("enable.idempotence");
    assertThatThrownBy(() -> b.clientProperty("group.id", "g")).hasMessageContaining("group.id");
    b.clientProperty("acks", "all").clientProperty("enable.idempotence", "true");
  }

  @Test
  void clientPropertiesReachEveryClientThatKnowsThem() {
    Map<String, Object> props =
        Map.of(
            "security.protocol", "SASL_SSL",
            "sasl.mechanism", "PLAIN",
            "ssl.truststore.location", "/tmp/t.jks",
            "my.plugin.setting", "x",
            "linger.ms", 20,
            "fetch.min.bytes", 10,
            "client.id", "game");
    var producer = ClientConfigs.producer(props, "b:1", "p");
    var consumer = ClientConfigs.consumer(props, "b:1", "c");
    var admin = ClientConfigs.admin(props, "b:1", "a");
    for (var config : java.util.List.of(producer, consumer, admin)) {
      assertThat(config)
          .containsEntry("security.protocol", "SASL_SSL")
          .containsEntry("sasl.mechanism", "PLAIN")
          .containsEntry("ssl.truststore.location", "/tmp/t.jks")
          .containsEntry("my.plugin.setting", "x")
          .containsEntry("bootstrap.servers", "b:1");
    }
    assertThat(producer).containsEntry("linger.ms", 20).doesNotContainKey("fetch.min.bytes");
    assertThat(consumer).containsEntry("fetch.min.bytes", 10).doesNotContainKey("linger.ms");
    assertThat(producer)
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", true)
        .containsEntry("client.id", "game-p");
    assertThat(consumer).containsEntry("enable.auto.commit", false).doesNotContainKey("group.id");
  }

  @Test
  void appendBeforeStartFailsAndMaxStateBytesHasASaneDefault() {
    try (var log = KafkaDeltaLog.builder().bootstrapServers("127.0.0.1:1").build()) {
      assertThat(log.maxStateBytes()).isEqualTo(1048576 - 4096);
      assertThat(log.append(dev.handoff.spi.SlotRecord.tombstone("s", "w")))
          .failsWithin(Duration.ofSeconds(1))
          .withThrowableThat()
          .withMessageContaining("start()");
      assertThat(log.barrier()).isCompletedExceptionally();
    }
  }
}
