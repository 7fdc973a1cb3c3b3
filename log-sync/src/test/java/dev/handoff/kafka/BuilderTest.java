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

  @Test
  void everyOptionCanBeSetOnlyOnce() {
    var b =
        KafkaDeltaLog.builder()
            .bootstrapServers("127.0.0.1:9092")
            .topic("t")
            .partitions(3)
            .replicationFactor(1)
            .minInSyncReplicas(1)
            .minCompactionLag(Duration.ofSeconds(1))
            .segmentTime(Duration.ofMinutes(1))
            .segmentBytes(1 << 20)
            .maxStateBytes(1000)
            .progressInterval(Duration.ofSeconds(1))
            .requestTimeout(Duration.ofSeconds(2))
            .listener(new KafkaDeltaLog.Listener() {});
    assertThatThrownBy(() -> b.bootstrapServers("other:1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("bootstrapServers was already set to 127.0.0.1:9092");
    assertThatThrownBy(() -> b.topic("u")).hasMessage("topic was already set to t");
    assertThatThrownBy(() -> b.partitions(4)).hasMessage("partitions was already set to 3");
    assertThatThrownBy(() -> b.replicationFactor(1))
        .hasMessage("replicationFactor was already set to 1");
    assertThatThrownBy(() -> b.minInSyncReplicas(1))
        .hasMessage("minInSyncReplicas was already set to 1");
    assertThatThrownBy(() -> b.minCompactionLag(Duration.ZERO))
        .hasMessage("minCompactionLag was already set to PT1S");
    assertThatThrownBy(() -> b.segmentTime(Duration.ofHours(1)))
        .hasMessage("segmentTime was already set to PT1M");
    assertThatThrownBy(() -> b.segmentBytes(1 << 21))
        .hasMessage("segmentBytes was already set to 1048576");
    assertThatThrownBy(() -> b.maxStateBytes(1))
        .hasMessage("maxStateBytes was already set to 1000");
    assertThatThrownBy(() -> b.progressInterval(Duration.ZERO))
        .hasMessage("progressInterval was already set to PT1S");
    assertThatThrownBy(() -> b.requestTimeout(Duration.ofSeconds(3)))
        .hasMessage("requestTimeout was already set to PT2S");
    assertThatThrownBy(() -> b.listener(new KafkaDeltaLog.Listener() {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("listener was already set to ");
    // The failed calls changed nothing.
    LogSettings s = b.build().settings;
    assertThat(s.topic()).isEqualTo("t");
    assertThat(s.partitions()).isEqualTo(3);
    assertThat(s.requestTimeout()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void mapLikeOptionsCanBeSetOncePerKey() {
    var b =
        KafkaDeltaLog.builder()
            .bootstrapServers("127.0.0.1:9092")
            .topicConfig("delete.retention.ms", "100")
            .topicConfig("min.cleanable.dirty.ratio", "0.1")
            .clientProperty("linger.ms", 5)
            .clientProperties(Map.of("fetch.min.bytes", 10));
    assertThatThrownBy(() -> b.topicConfig("delete.retention.ms", "200"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("topicConfig delete.retention.ms was already set to 100");
    assertThatThrownBy(() -> b.clientProperty("linger.ms", 6))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clientProperty linger.ms was already set to 5");
    assertThatThrownBy(() -> b.clientProperties(Map.of("fetch.min.bytes", 11)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clientProperty fetch.min.bytes was already set to 10");
    LogSettings s = b.build().settings;
    assertThat(s.topicConfigs())
        .containsEntry("delete.retention.ms", "100")
        .containsEntry("min.cleanable.dirty.ratio", "0.1");
    assertThat(s.clientProperties())
        .containsEntry("linger.ms", 5)
        .containsEntry("fetch.min.bytes", 10);
  }

  @Test
  void setterErrorsAreIllegalArgumentsNamingTheOptionAndTheValue() {
    var b = KafkaDeltaLog.builder();
    assertThatThrownBy(() -> b.partitions(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be >= 1, was 0");
    assertThatThrownBy(() -> b.requestTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestTimeout must be positive, was PT0S");
    assertThatThrownBy(() -> b.segmentTime(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("segmentTime must be positive, was PT-0.005S");
    assertThatThrownBy(() -> b.topic(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("topic must not be null or blank, was ' '");
    assertThatThrownBy(() -> b.listener(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("listener");
    assertThatThrownBy(() -> b.topicConfig("segment.ms", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topicConfig segment.ms");
  }

  @Test
  void buildRefusesMissingAndConflictingOptionsNamingThem() {
    assertThatThrownBy(() -> KafkaDeltaLog.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bootstrapServers");
    assertThatThrownBy(
            () ->
                KafkaDeltaLog.builder()
                    .bootstrapServers("x:1")
                    .replicationFactor(1)
                    .minInSyncReplicas(2)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("replicationFactor=1");
    assertThatThrownBy(
            () ->
                KafkaDeltaLog.builder()
                    .bootstrapServers("x:1")
                    .segmentTime(Duration.ofMinutes(1))
                    .topicConfig("segment.ms", "100")
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("segmentTime (PT1M)")
        .hasMessageContaining("topicConfig segment.ms (100)");
    // Given one way only, a topic config with its own option is taken as it is.
    assertThat(
            KafkaDeltaLog.builder()
                .bootstrapServers("x:1")
                .topicConfig("segment.ms", "100")
                .build()
                .settings
                .topicConfigs())
        .containsEntry("segment.ms", "100");
    // bootstrap.servers as a client property is enough.
    assertThat(
            KafkaDeltaLog.builder()
                .clientProperty("bootstrap.servers", "y:1")
                .build()
                .settings
                .bootstrapServers())
        .isEqualTo("y:1");
  }

  @Test
  void riskyTopicSettingsAreAcceptedOnlyByNameAndOnce() {
    var b =
        KafkaDeltaLog.builder().bootstrapServers("x:1").acceptDataLossRisk("delete.retention.ms");
    assertThatThrownBy(() -> b.acceptDataLossRisk("delete.retention.ms"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("acceptDataLossRisk delete.retention.ms was already set");
    assertThatThrownBy(() -> b.acceptDataLossRisk("segment.ms"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("acceptDataLossRisk takes one of [cleanup.policy,")
        .hasMessageContaining("was 'segment.ms'");
    assertThat(b.build().settings.acceptedRisks()).containsExactly("delete.retention.ms");
  }

  @Test
  void endedRetentionDefaultsToStateHandoffsAndIsValidated() {
    assertThat(KafkaDeltaLog.builder().bootstrapServers("x:1").build().settings.endedRetention())
        .isEqualTo(Duration.ofHours(1));
    var b = KafkaDeltaLog.builder().bootstrapServers("x:1");
    assertThatThrownBy(() -> b.endedRetention(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("endedRetention must be positive, was PT0S");
    b.endedRetention(Duration.ofMinutes(5));
    assertThatThrownBy(() -> b.endedRetention(Duration.ofMinutes(6)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("endedRetention was already set to PT5M");
  }
}
