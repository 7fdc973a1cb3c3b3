package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import dev.handoff.testkit.TopicRecords;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A later wire version after real compaction. Every node start republishes its writer schemas, and
 * compaction keeps only the newest copy of each, so in a compacted topic a schema record can sit
 * after the older data written with it. A node of this version must still read that data.
 */
class WireUpgradeTest {

  /** Wire version 2 of a later Handoff: one added field with a default. */
  static final Schema SLOT_STATE_V2 =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "SlotState", "namespace": "dev.handoff.wire",
               "fields": [
                 {"name": "epoch", "type": "long"},
                 {"name": "claimOffset", "type": "long"},
                 {"name": "seq", "type": "long"},
                 {"name": "hlc", "type": "long"},
                 {"name": "value", "type": ["null", "bytes"], "default": null},
                 {"name": "ended", "type": "boolean", "default": false},
                 {"name": "origin", "type": "string", "default": ""}
               ]}
              """);

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.builder().brokers(1).fastCompaction(true).start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  private static KafkaDeltaLogBuilder logOn(String topic) {
    var b =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic(topic)
            .partitions(2)
            .replicationFactor(1)
            .requestTimeout(Duration.ofSeconds(20))
            .acceptDataLossRisk("delete.retention.ms"); // compacts within seconds
    EmbeddedKafka.fastCompactionTopicConfig().forEach(b::topicConfig);
    return b;
  }

  @Test
  void dataWhoseSchemaCompactionLeftAfterItStillAppliesOnReplay() throws Exception {
    String topic = "wire-upgrade";
    long fpV2 = SingleObject.fingerprint(SLOT_STATE_V2);
    byte[] schemaKey = LogKey.writerSchema(fpV2);
    byte[] schemaValue = WriterSchemas.encodeValue(SLOT_STATE_V2);
    List<String> sessions = new ArrayList<>();
    for (int i = 0; sessions.size() < 12; i++) {
      sessions.add("v2-" + i);
    }
    try (KafkaDeltaLog v1Node = logOn(topic).build();
        var v2Node = rawProducer()) {
      v1Node.start(e -> {}).get(30, TimeUnit.SECONDS);
      // A v2 node starts: it publishes its wire schema to every partition, then writes with it;
      // a v1 node writes to the same sessions too.
      for (int p = 0; p < 2; p++) {
        v2Node.send(new ProducerRecord<>(topic, p, schemaKey, schemaValue)).get();
      }
      for (String s : sessions) {
        int p = KafkaDeltaLog.partitionFor(s, 2);
        v2Node.send(new ProducerRecord<>(topic, p, LogKey.slot(s, "future#1"), v2State(s))).get();
        v1Node.append(new SlotRecord(s, "past#1", v1State(s))).get(30, TimeUnit.SECONDS);
      }
      // Another v2 node starts later and republishes the schema.
      for (int p = 0; p < 2; p++) {
        v2Node.send(new ProducerRecord<>(topic, p, schemaKey, schemaValue)).get();
      }
      // Roll segments until the cleaner has dropped the first copy in both partitions.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () -> {
                for (int p = 0; p < 2; p++) {
                  v1Node
                      .append(new SlotRecord(filler(p), "roller#1", v1State("f")))
                      .get(30, TimeUnit.SECONDS);
                }
                return TopicRecords.count(
                        kafka.adminProperties(), topic, r -> Arrays.equals(r.key(), schemaKey))
                    == 2;
              });
    }

    var sink = new Recorder();
    try (KafkaDeltaLog restarted = logOn(topic).build()) {
      restarted.start(sink).get(30, TimeUnit.SECONDS);
      Map<String, String> v2Values = new HashMap<>();
      for (LogEntry e : sink.entries()) {
        if (e.record().writer().equals("future#1")) {
          v2Values.put(
              e.record().session(), new String(e.record().state().value(), StandardCharsets.UTF_8));
        }
      }
      Map<String, String> expected = new HashMap<>();
      sessions.forEach(s -> expected.put(s, "v2 of " + s));
      assertThat(v2Values).isEqualTo(expected);
      assertThat(restarted.skippedRecords()).isZero();
      assertThat(restarted.skippedRecords(KafkaDeltaLog.SkipReason.UNKNOWN_SCHEMA)).isZero();
      // Each partition still reaches the sink in log order.
      assertInLogOrder(sink.entries());
    }
  }

  @Test
  void recordsOfTwoLaterVersionsWhoseSchemasBothComeAfterThemApplyInLogOrder() throws Exception {
    String topic = "wire-two-versions";
    Schema v3 =
        new Schema.Parser()
            .parse(
                SLOT_STATE_V2
                    .toString()
                    .replace(
                        "{\"name\":\"origin\"",
                        "{\"name\":\"zone\",\"type\":\"int\",\"default\":0},{\"name\":\"origin\""));
    assertThat(v3.getField("zone")).isNotNull();
    try (KafkaDeltaLog v1Node = logOn(topic).build();
        var raw = rawProducer()) {
      v1Node.start(e -> {}).get(30, TimeUnit.SECONDS);
      // As compaction can leave it: data of v2 and v3 interleaved, both schemas after all of it.
      for (int i = 0; i < 6; i++) {
        String s = "s" + i;
        int p = KafkaDeltaLog.partitionFor(s, 2);
        Schema schema = i % 2 == 0 ? SLOT_STATE_V2 : v3;
        raw.send(new ProducerRecord<>(topic, p, LogKey.slot(s, "future#1"), state(schema, s)))
            .get();
        v1Node.append(new SlotRecord(s, "past#1", v1State(s))).get(30, TimeUnit.SECONDS);
      }
      for (Schema schema : List.of(SLOT_STATE_V2, v3)) {
        for (int p = 0; p < 2; p++) {
          raw.send(
                  new ProducerRecord<>(
                      topic,
                      p,
                      LogKey.writerSchema(SingleObject.fingerprint(schema)),
                      WriterSchemas.encodeValue(schema)))
              .get();
        }
      }
    }
    var sink = new Recorder();
    try (KafkaDeltaLog restarted = logOn(topic).build()) {
      restarted.start(sink).get(30, TimeUnit.SECONDS);
      assertThat(sink.entries())
          .filteredOn(e -> e.record().writer().equals("future#1"))
          .extracting(e -> e.record().session())
          .containsExactlyInAnyOrder("s0", "s1", "s2", "s3", "s4", "s5");
      assertThat(restarted.skippedRecords()).isZero();
      assertInLogOrder(sink.entries());
      // The topic keeps being followed after the searches.
      restarted
          .append(new SlotRecord("later", "past#1", v1State("later")))
          .get(30, TimeUnit.SECONDS);
      restarted.barrier().get(30, TimeUnit.SECONDS);
      assertThat(sink.entries()).anyMatch(e -> e.record().session().equals("later"));
    }
  }

  private static void assertInLogOrder(List<LogEntry> entries) {
    Map<Integer, Long> last = new HashMap<>();
    for (LogEntry e : entries) {
      Long before = last.put(e.partition(), e.offset());
      if (before != null) {
        assertThat(e.offset()).isGreaterThan(before);
      }
    }
  }

  private static String filler(int partition) {
    for (int i = 0; ; i++) {
      if (KafkaDeltaLog.partitionFor("filler-" + i, 2) == partition) {
        return "filler-" + i;
      }
    }
  }

  private static byte[] v2State(String session) throws Exception {
    return state(SLOT_STATE_V2, session);
  }

  private static byte[] state(Schema schema, String session) throws Exception {
    GenericRecord r = new GenericData.Record(schema);
    r.put("epoch", 2L);
    r.put("claimOffset", SlotState.SELF);
    r.put("seq", 1L);
    r.put("hlc", 5000L);
    r.put("value", ByteBuffer.wrap(("v2 of " + session).getBytes(StandardCharsets.UTF_8)));
    r.put("ended", false);
    r.put("origin", "eu-west");
    if (schema.getField("zone") != null) {
      r.put("zone", 3);
    }
    return WireFormatTest.singleObject(schema, r);
  }

  private static SlotState v1State(String value) {
    return new SlotState(1, SlotState.SELF, 1, 4000, value.getBytes(StandardCharsets.UTF_8), false);
  }

  private static KafkaProducer<byte[], byte[]> rawProducer() {
    return new KafkaProducer<>(
        Map.of(
            "bootstrap.servers", kafka.bootstrapServers(),
            "key.serializer", ByteArraySerializer.class,
            "value.serializer", ByteArraySerializer.class));
  }
}
