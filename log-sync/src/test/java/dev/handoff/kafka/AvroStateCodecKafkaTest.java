package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.spi.StateCodecException;
import dev.handoff.testkit.EmbeddedKafka;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A rolling deploy in miniature: a node on version 1 of the state schema (a specific record) and a
 * node on version 2 (a generic record with an added field) share one topic and read each other's
 * states; writer schemas reach the other node only through the topic.
 */
class AvroStateCodecKafkaTest {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() throws Exception {
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
        .partitions(3)
        .replicationFactor(1)
        .build();
  }

  private static byte[] valueOf(Recorder sink, String session) {
    return sink.entries().stream()
        .map(LogEntry::record)
        .filter(r -> r.session().equals(session) && r.state() != null)
        .reduce((a, b) -> b)
        .orElseThrow()
        .state()
        .value();
  }

  @Test
  void version1AndVersion2NodesReadEachOthersStateThroughTheTopic() throws Exception {
    String topic = "avro-versions";
    var oldSink = new Recorder();
    var newSink = new Recorder();
    try (KafkaDeltaLog oldLog = log(topic);
        KafkaDeltaLog newLog = log(topic)) {
      // The old node starts first: it has never seen version 2.
      AvroStateCodec<Player> oldCodec = AvroStateCodec.specific(Player.class, oldLog);
      oldLog.start(oldSink).get(30, TimeUnit.SECONDS);
      assertThat(oldCodec.published()).isCompleted();
      byte[] oldBytes = oldCodec.encode(new Player("ada", 10));
      oldLog
          .append(new SlotRecord("g1", "old#1", new SlotState(1, -1, 1, 1, oldBytes, false)))
          .get(30, TimeUnit.SECONDS);

      // The new node comes up during the deploy with version 2.
      AvroStateCodec<GenericRecord> newCodec =
          AvroStateCodec.generic(AvroStateCodecTest.V2, newLog);
      newLog.start(newSink).get(30, TimeUnit.SECONDS);
      GenericRecord v2 = new GenericData.Record(AvroStateCodecTest.V2);
      v2.put("name", "bob");
      v2.put("score", 20);
      v2.put("level", 5);
      byte[] newBytes = newCodec.encode(v2);
      newLog
          .append(new SlotRecord("g2", "new#1", new SlotState(1, -1, 1, 1, newBytes, false)))
          .get(30, TimeUnit.SECONDS);

      oldLog.barrier().get(30, TimeUnit.SECONDS);
      Player readByOld = oldCodec.decode(valueOf(oldSink, "g2"));
      assertThat(readByOld.name()).isEqualTo("bob");
      assertThat(readByOld.score()).isEqualTo(20);

      newLog.barrier().get(30, TimeUnit.SECONDS);
      GenericRecord readByNew = newCodec.decode(valueOf(newSink, "g1"));
      assertThat(readByNew.get("name").toString()).isEqualTo("ada");
      assertThat(readByNew.get("level")).as("default for the added field").isEqualTo(1);
    }

    // A node restarted on version 1 learns version 2 from the replay alone.
    var sink = new Recorder();
    try (KafkaDeltaLog restarted = log(topic)) {
      AvroStateCodec<Player> codec = AvroStateCodec.specific(Player.class, restarted);
      restarted.start(sink).get(30, TimeUnit.SECONDS);
      assertThat(codec.decode(valueOf(sink, "g2")).name()).isEqualTo("bob");
    }
  }

  @Test
  void aStateWithASchemaNobodyPublishedIsReportedNotFatal() throws Exception {
    String topic = "avro-unknown";
    var sink = new Recorder();
    try (KafkaDeltaLog log = log(topic)) {
      AvroStateCodec<Player> codec = AvroStateCodec.specific(Player.class, log);
      log.start(sink).get(30, TimeUnit.SECONDS);
      // A foreign writer stashes a state with a schema it never published.
      byte[] foreign = codec.encode(new Player("zed", 1));
      foreign[5] ^= 0x33;
      log.append(new SlotRecord("g", "foreign#1", new SlotState(1, -1, 1, 1, foreign, false)))
          .get(30, TimeUnit.SECONDS);
      log.barrier().get(30, TimeUnit.SECONDS);
      assertThatThrownBy(() -> codec.decode(valueOf(sink, "g")))
          .isInstanceOf(StateCodecException.class)
          .hasMessageContaining("unknown writer schema");
      assertThat(log.failureCause()).isEmpty();
    }
  }

  @Test
  void aCodecCreatedAfterStartIsPublishedBeforeItEncodes() throws Exception {
    String topic = "avro-late";
    try (KafkaDeltaLog log = log(topic);
        KafkaDeltaLog other = log(topic)) {
      log.start(new Recorder()).get(30, TimeUnit.SECONDS);
      other.start(new Recorder()).get(30, TimeUnit.SECONDS);
      AvroStateCodec<GenericRecord> late = AvroStateCodec.generic(AvroStateCodecTest.V2, log);
      late.published().get(30, TimeUnit.SECONDS);
      other.barrier().get(30, TimeUnit.SECONDS);
      long fp = SingleObject.fingerprint(AvroStateCodecTest.V2);
      assertThat(other.writerSchemas.findByFingerprint(fp)).isEqualTo(AvroStateCodecTest.V2);
    }
  }

  @Test
  void aCorruptWriterSchemaRecordIsSkippedAndCounted() throws Exception {
    String topic = "avro-corrupt-schema";
    try (KafkaDeltaLog log = log(topic)) {
      log.start(new Recorder()).get(30, TimeUnit.SECONDS);
      try (var raw =
          new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(
              java.util.Map.of(
                  "bootstrap.servers", kafka.bootstrapServers(),
                  "key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class,
                  "value.serializer",
                      org.apache.kafka.common.serialization.ByteArraySerializer.class))) {
        byte[] value = WriterSchemas.encodeValue(AvroStateCodecTest.V2);
        raw.send(new ProducerRecord<>(topic, 0, LogKey.writerSchema(12345L), value)).get();
      }
      log.barrier().get(30, TimeUnit.SECONDS);
      assertThat(log.skippedRecords()).isEqualTo(1);
      assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.BAD_SCHEMA_RECORD)).isEqualTo(1);
      assertThat(log.writerSchemas.findByFingerprint(12345L)).isNull();
    }
  }
}
