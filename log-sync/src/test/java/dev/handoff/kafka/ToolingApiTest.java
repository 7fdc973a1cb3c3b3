package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The read-only tooling API ({@link TopicReader}, {@link TopicCheck}) on a real broker. */
class ToolingApiTest {

  private static final Schema GAME =
      SchemaBuilder.record("Game")
          .namespace("test")
          .fields()
          .requiredString("player")
          .requiredInt("score")
          .endRecord();

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.builder().brokers(1).start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  private static KafkaDeltaLog log(String topic) {
    return KafkaDeltaLog.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topic(topic)
        .partitions(2)
        .replicationFactor(1)
        .build();
  }

  private static void createTopic(String topic, Map<String, String> configs) throws Exception {
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      admin
          .createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(configs)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void theReaderDecodesSlotsTombstonesSchemasAndStatesWrittenByTheLog() throws Exception {
    String topic = "tooling-read";
    try (var log = log(topic)) {
      var codec = AvroStateCodec.generic(GAME, log);
      log.start(e -> {}).get(30, TimeUnit.SECONDS);
      GenericRecord game = new GenericData.Record(GAME);
      game.put("player", "ada");
      game.put("score", 7);
      byte[] bytes = codec.encode(game);
      log.append(new SlotRecord("s1", "node-1#5", new SlotState(1, -1, 1, 100, bytes, false)))
          .get(30, TimeUnit.SECONDS);
      log.append(SlotRecord.tombstone("s2", "node-2#6")).get(30, TimeUnit.SECONDS);
    }
    try (var producer =
        new KafkaProducer<byte[], byte[]>(
            Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, 0, new byte[] {9}, new byte[] {1})).get();
    }

    var entries = new ArrayList<TopicReader.Entry>();
    try (var reader =
        TopicReader.open(kafka.bootstrapServers(), topic, Map.of(), Duration.ofSeconds(20))) {
      Map<Integer, Long> end = reader.readToEnd(entries::add);
      assertThat(end).hasSize(2);
      assertThat(entries).hasSize((int) end.values().stream().mapToLong(Long::longValue).sum());

      var slots =
          entries.stream()
              .filter(e -> e instanceof TopicReader.SlotEntry)
              .map(e -> ((TopicReader.SlotEntry) e).record())
              .toList();
      assertThat(slots)
          .extracting(SlotRecord::session, SlotRecord::writer, SlotRecord::isTombstone)
          .containsExactlyInAnyOrder(
              org.assertj.core.groups.Tuple.tuple("s1", "node-1#5", false),
              org.assertj.core.groups.Tuple.tuple("s2", "node-2#6", true));
      assertThat(entries)
          .filteredOn(e -> e instanceof TopicReader.Undecodable)
          .singleElement()
          .satisfies(e -> assertThat(((TopicReader.Undecodable) e).reason()).contains("0x09"));
      // Both partitions carry the wire schemas (versions 1 and 2) and the codec's schema.
      assertThat(entries).filteredOn(e -> e instanceof TopicReader.SchemaEntry).hasSize(6);
      assertThat(entries)
          .filteredOn(e -> e instanceof TopicReader.LayoutEntry)
          .singleElement()
          .satisfies(e -> assertThat(((TopicReader.LayoutEntry) e).partitions()).isEqualTo(2));

      byte[] state =
          slots.stream().filter(r -> !r.isTombstone()).findFirst().orElseThrow().state().value();
      assertThat(TopicReader.stateFingerprint(state)).isPresent();
      GenericRecord decoded = reader.decodeState(state);
      assertThat(decoded.get("player").toString()).isEqualTo("ada");
      assertThat(decoded.get("score")).isEqualTo(7);
      assertThat(TopicReader.stateFingerprint("plain".getBytes())).isEmpty();
    }
  }

  @Test
  void theReaderOfAMissingTopicFailsNamingIt() {
    try (var reader =
        TopicReader.open(
            kafka.bootstrapServers(), "no-such-topic", Map.of(), Duration.ofSeconds(10))) {
      assertThatThrownBy(() -> reader.readToEnd(e -> {}))
          .isInstanceOf(KafkaDeltaLogException.class)
          .hasMessageContaining("'no-such-topic' does not exist");
    }
  }

  @Test
  void theCheckReportsTheSameErrorTheLogFailsToStartWith() throws Exception {
    String topic = "tooling-delete";
    createTopic(topic, Map.of("cleanup.policy", "compact,delete"));
    TopicCheck.Report report;
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      report = TopicCheck.check(admin, topic, Duration.ofSeconds(20));
    }
    assertThat(report.hasErrors()).isTrue();
    var error = report.findings().get(0);
    assertThat(error.setting()).isEqualTo("cleanup.policy");

    try (var log = log(topic)) {
      assertThatThrownBy(() -> log.start(e -> {}).get(30, TimeUnit.SECONDS))
          .rootCause()
          .isInstanceOf(KafkaDeltaLogException.class)
          .hasMessage(error.message());
    }
  }

  @Test
  void aTopicTheLogCreatedHasNoErrorsAndWarnsOnlyAboutReplicationOnOneBroker() throws Exception {
    String topic = "tooling-created";
    try (var log = log(topic)) {
      log.start(e -> {}).get(30, TimeUnit.SECONDS);
    }
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      var report = TopicCheck.check(admin, topic, Duration.ofSeconds(20));
      assertThat(report.hasErrors()).isFalse();
      assertThat(report.partitions()).isEqualTo(2);
      assertThat(report.configs()).containsEntry("cleanup.policy", "compact");
      assertThat(report.findings())
          .extracting(TopicCheck.Finding::setting)
          .containsExactly("replication.factor");
      assertThat(report.maxStateBytes()).isEqualTo(1048576 - 4096);
    }
  }

  @Test
  void warningsNameTheSettingsThatWeakenAGuarantee() {
    var report =
        TopicCheck.evaluate(
            "t",
            12,
            2,
            Map.of(
                "cleanup.policy", "compact",
                "min.insync.replicas", "1",
                "segment.ms", "604800000"));
    assertThat(report.hasErrors()).isFalse();
    assertThat(report.findings())
        .extracting(TopicCheck.Finding::setting)
        .containsExactlyInAnyOrder("min.insync.replicas", "replication.factor", "segment.ms");
  }

  @Test
  void settingsWithWhichTheLogRefusesToStartAreErrors() {
    // Issue 19: at replication factor 3, min.insync.replicas=1 and unclean leader election can
    // lose an acknowledged stash, so the log refuses them (and the check says so).
    var report =
        TopicCheck.evaluate(
            "t",
            12,
            3,
            Map.of(
                "cleanup.policy", "compact",
                "min.insync.replicas", "1",
                "unclean.leader.election.enable", "true"));
    assertThat(report.findings())
        .filteredOn(f -> f.severity() == TopicCheck.Severity.ERROR)
        .extracting(TopicCheck.Finding::setting)
        .containsExactlyInAnyOrder("min.insync.replicas", "unclean.leader.election.enable");
  }
}
