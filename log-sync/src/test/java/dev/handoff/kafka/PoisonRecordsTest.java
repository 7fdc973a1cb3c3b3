package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.kafka.KafkaDeltaLog.SkipReason;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and damaged records on a real broker: each is skipped and counted, the records around it
 * still apply, the running node's reader goes on, and a node started later still starts. The
 * broker's data directory is known, so a test can damage a batch on disk.
 */
class PoisonRecordsTest {

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static Path dataDir;
  private static EmbeddedKafka kafka;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void startKafka() throws Exception {
    dataDir = Files.createDirectories(Path.of("target", "poison-kafka"));
    kafka = EmbeddedKafka.builder().brokers(1).baseDir(dataDir).start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  @Test
  void aCorruptBatchIsSkippedAndCountedAndLaterNodesStillStart() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog writer = open(topic, 1);
    join(writer.start(new Recorder()));
    join(writer.append(record("before", 1)));
    List<Long> damaged = new ArrayList<>();
    try (var raw = rawProducer(Map.of("linger.ms", 1000, "batch.size", 1 << 20))) {
      for (int batch = 0; batch < 2; batch++) {
        damaged.addAll(sendOneBatch(raw, topic, 0, "damaged-" + batch + "-", 20));
      }
    }
    for (int i = 0; i < 3; i++) {
      join(writer.append(record("after-" + i, 2)));
    }
    writer.close();
    List<long[]> corrupted = corruptBatchesHolding(topic, 0, damaged);
    assertThat(corrupted).as("two batches of 20 records each").hasSize(2);
    assertThat(corrupted).allSatisfy(range -> assertThat(range[1] - range[0]).isEqualTo(19));

    List<String> expected = new ArrayList<>(List.of("before", "after-0", "after-1", "after-2"));
    for (int node = 0; node < 2; node++) {
      var sink = new Recorder();
      KafkaDeltaLog log = open(topic, 1);
      join(log.start(sink));
      assertThat(sessions(sink)).containsExactlyElementsOf(expected);
      assertThat(log.skippedRecords()).as("one per corrupt batch").isEqualTo(2);
      assertThat(log.skippedRecords(SkipReason.CORRUPT_BATCH)).isEqualTo(2);
      // The node keeps reading what comes after.
      join(log.append(record("live-" + node, 3)));
      join(log.barrier());
      expected.add("live-" + node);
      assertThat(sessions(sink)).containsExactlyElementsOf(expected);
      assertThat(log.failureCause()).isEmpty();
      assertThat(log.stopped()).isNotDone();
    }
  }

  @Test
  void aRecordInAnotherPartitionThanItsSessionsIsSkippedAndCounted() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(topic, 3);
    join(log.start(sink));
    String session = "copied";
    int home = KafkaDeltaLog.partitionFor(session, 3);
    int elsewhere = (home + 1) % 3;
    join(log.append(new SlotRecord(session, "node#1", state(1, "old"))));
    join(log.append(new SlotRecord(session, "node#1", state(2, "new"))));
    // A mirror or a foreign producer copies the older record into another partition, where it
    // lands at a higher offset than the newer one has in the session's own partition.
    try (var raw = rawProducer(Map.of())) {
      for (int i = 0; i < 5; i++) {
        raw.send(
                new ProducerRecord<>(
                    topic,
                    elsewhere,
                    LogKey.slot(session, "node#1"),
                    WireFormat.encode(state(1, "old"))))
            .get();
      }
      raw.send(new ProducerRecord<>(topic, elsewhere, LogKey.slot(session, "node#1"), null)).get();
    }
    join(log.append(new SlotRecord("fine", "node#1", state(3, "f"))));
    join(log.barrier());

    assertThat(sink.entries()).allSatisfy(e -> assertThat(e.partition()).isEqualTo(home(e)));
    assertThat(log.skippedRecords()).isEqualTo(6);
    assertThat(log.skippedRecords(SkipReason.WRONG_PARTITION)).isEqualTo(6);
    assertThat(sink.replicaView("")).containsEntry(session, "node#1=new");
    assertThat(sessions(sink)).contains("fine");

    var replayed = new Recorder();
    KafkaDeltaLog later = open(topic, 3);
    join(later.start(replayed));
    assertThat(replayed.entries()).allSatisfy(e -> assertThat(e.partition()).isEqualTo(home(e)));
    assertThat(later.skippedRecords(SkipReason.WRONG_PARTITION)).isEqualTo(6);
    assertThat(replayed.replicaView("")).containsEntry(session, "node#1=new");
  }

  /** Writer ids no node writes: not {@code memberId#epoch} with a decimal epoch of at least 0. */
  static final List<String> FOREIGN_WRITERS =
      List.of(
          "nohash",
          "#1",
          "a#",
          "a#-1",
          "a#b#1",
          "a#1x",
          "a#+1",
          "a# 1",
          "a#01",
          "a#99999999999999999999",
          "a#1.0");

  @Test
  void recordsOfAWriterIdThatIsNotMemberIdHashEpochAreSkippedAndCounted() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(topic, 1);
    join(log.start(sink));
    join(log.append(record("before", 1)));
    try (var raw = rawProducer(Map.of())) {
      for (String w : FOREIGN_WRITERS) {
        raw.send(
                new ProducerRecord<>(
                    topic, 0, LogKey.slot("s-" + w, w), WireFormat.encode(state(1, "x"))))
            .get();
        raw.send(new ProducerRecord<>(topic, 0, LogKey.slot("before", w), null)).get();
      }
    }
    join(log.append(new SlotRecord("after", "m#0", state(2, "y"))));
    join(log.barrier());
    assertThat(sessions(sink)).containsExactly("before", "after");
    assertThat(log.skippedRecords()).isEqualTo(2L * FOREIGN_WRITERS.size());
    assertThat(log.skippedRecords(SkipReason.FOREIGN_WRITER))
        .isEqualTo(2L * FOREIGN_WRITERS.size());

    var replayed = new Recorder();
    KafkaDeltaLog later = open(topic, 1);
    join(later.start(replayed));
    assertThat(sessions(replayed)).containsExactly("before", "after");
    assertThat(later.skippedRecords(SkipReason.FOREIGN_WRITER))
        .isEqualTo(2L * FOREIGN_WRITERS.size());
  }

  @Test
  void aWriterSchemaRecordThatAvroRejectsStopsNeitherTheRunningNodeNorALaterOne() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(topic, 1);
    join(log.start(sink));
    List<String> rejected = WriterSchemasTest.REJECTED_BY_AVRO;
    try (var raw = rawProducer(Map.of())) {
      // The issue's 80-byte record first: an invalid default.
      byte[] invalidDefault = WriterSchemasTest.value(rejected.get(0));
      assertThat(invalidDefault.length).isLessThan(90);
      for (int i = 0; i < rejected.size(); i++) {
        raw.send(
                new ProducerRecord<>(
                    topic,
                    0,
                    LogKey.writerSchema(1000L + i),
                    WriterSchemasTest.value(rejected.get(i))))
            .get();
      }
    }
    join(log.append(record("after", 1)));
    join(log.barrier());
    assertThat(sessions(sink)).containsExactly("after");
    assertThat(log.failureCause()).isEmpty();
    assertThat(log.skippedRecords()).isEqualTo(rejected.size());
    assertThat(log.skippedRecords(SkipReason.BAD_SCHEMA_RECORD)).isEqualTo(rejected.size());

    var replayed = new Recorder();
    KafkaDeltaLog later = open(topic, 1);
    join(later.start(replayed));
    assertThat(sessions(replayed)).containsExactly("after");
    assertThat(later.skippedRecords(SkipReason.BAD_SCHEMA_RECORD)).isEqualTo(rejected.size());
    assertThat(later.failureCause()).isEmpty();
  }

  @Test
  void logsStartOnATopicHoldingEveryKindOfPoisonAndApplyTheGoodRecords() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog writer = open(topic, 1);
    join(writer.start(new Recorder()));
    join(writer.append(record("good-0", 1)));
    int poisoned = 0;
    List<Long> damaged;
    try (var batching = rawProducer(Map.of("linger.ms", 1000, "batch.size", 1 << 20))) {
      damaged = sendOneBatch(batching, topic, 0, "damaged-", 10);
      poisoned++; // one corrupt batch
    }
    try (var raw = rawProducer(Map.of())) {
      byte[] good = WireFormat.encode(state(1, "x"));
      byte[] random = new byte[40];
      new Random(3).nextBytes(random);
      byte[] unknownSchema = good.clone();
      unknownSchema[4] ^= 0x5a;
      List<ProducerRecord<byte[], byte[]>> poison =
          List.of(
              new ProducerRecord<>(topic, 0, new byte[] {0x7f}, good), // unknown key type
              new ProducerRecord<>(topic, 0, new byte[0], good), // empty key
              new ProducerRecord<>(topic, 0, LogKey.slot("p", "w#1"), random), // random value
              new ProducerRecord<>(topic, 0, LogKey.slot("p", "w#1"), unknownSchema),
              new ProducerRecord<>(topic, 0, LogKey.slot("p", "nohash"), good), // foreign writer
              new ProducerRecord<>(topic, 0, LogKey.writerSchema(7L), "{".getBytes()),
              new ProducerRecord<>(
                  topic,
                  0,
                  LogKey.writerSchema(8L),
                  WriterSchemasTest.value(WriterSchemasTest.REJECTED_BY_AVRO.get(0))),
              new ProducerRecord<>(
                  topic,
                  0,
                  LogKey.writerSchema(9L),
                  WriterSchemasTest.value(WriterSchemasTest.REJECTED_BY_AVRO.get(2))));
      for (var r : poison) {
        raw.send(r).get();
      }
      poisoned += poison.size();
    }
    join(writer.append(record("good-1", 2)));
    writer.close();
    assertThat(corruptBatchesHolding(topic, 0, damaged)).hasSize(1);

    for (int node = 0; node < 2; node++) {
      var sink = new Recorder();
      KafkaDeltaLog log = open(topic, 1);
      join(log.start(sink));
      assertThat(sessions(sink)).containsExactly("good-0", "good-1");
      assertThat(log.skippedRecords()).isEqualTo(poisoned);
      assertThat(log.skippedRecords(SkipReason.CORRUPT_BATCH)).isEqualTo(1);
      assertThat(log.skippedRecords(SkipReason.UNDECODABLE)).isEqualTo(3);
      assertThat(log.skippedRecords(SkipReason.UNKNOWN_SCHEMA)).isEqualTo(1);
      assertThat(log.skippedRecords(SkipReason.FOREIGN_WRITER)).isEqualTo(1);
      assertThat(log.skippedRecords(SkipReason.BAD_SCHEMA_RECORD)).isEqualTo(3);
      assertThat(log.failureCause()).isEmpty();
      assertThat(log.stopped()).isNotDone();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static String newTopic() {
    return "poison-" + TOPICS.incrementAndGet();
  }

  private KafkaDeltaLog open(String topic, int partitions) {
    KafkaDeltaLog log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic(topic)
            .partitions(partitions)
            .replicationFactor(1)
            .requestTimeout(Duration.ofSeconds(20))
            .build();
    toClose.add(log);
    return log;
  }

  private static SlotState state(long seq, String value) {
    return new SlotState(
        1, SlotState.SELF, seq, 1000 + seq, value.getBytes(StandardCharsets.UTF_8), false);
  }

  private static SlotRecord record(String session, long seq) {
    return new SlotRecord(session, "node#1", state(seq, session));
  }

  private static int home(LogEntry e) {
    return KafkaDeltaLog.partitionFor(e.record().session(), 3);
  }

  private static List<String> sessions(Recorder sink) {
    return sink.entries().stream().map(e -> e.record().session()).toList();
  }

  private static <T> T join(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  static KafkaProducer<byte[], byte[]> rawProducer(Map<String, Object> extra) {
    var props = new HashMap<String, Object>(extra);
    props.put("bootstrap.servers", kafka.bootstrapServers());
    props.put("key.serializer", ByteArraySerializer.class);
    props.put("value.serializer", ByteArraySerializer.class);
    return new KafkaProducer<>(props);
  }

  /** Sends {@code n} valid slot records in one go (one batch with a long linger); their offsets. */
  private static List<Long> sendOneBatch(
      KafkaProducer<byte[], byte[]> raw, String topic, int partition, String prefix, int n)
      throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(
          raw.send(
              new ProducerRecord<>(
                  topic,
                  partition,
                  LogKey.slot(prefix + i, "raw#1"),
                  WireFormat.encode(state(i + 1, prefix + i)))));
    }
    raw.flush();
    List<Long> offsets = new ArrayList<>();
    for (var f : sent) {
      offsets.add(f.get().offset());
    }
    return offsets;
  }

  /**
   * Flips the last byte of every record batch, in the broker's segment files of the partition, that
   * holds one of {@code offsets}: its CRC no longer matches. Returns each damaged batch's base and
   * last offset.
   */
  static List<long[]> corruptBatchesHolding(String topic, int partition, List<Long> offsets)
      throws IOException {
    List<Path> segments;
    try (Stream<Path> files = Files.walk(dataDir)) {
      segments =
          files
              .filter(
                  f ->
                      f.getParent().getFileName().toString().equals(topic + "-" + partition)
                          && f.getFileName().toString().endsWith(".log"))
              .sorted()
              .toList();
    }
    assertThat(segments).as("segment files of %s-%d", topic, partition).isNotEmpty();
    List<long[]> damaged = new ArrayList<>();
    for (Path segment : segments) {
      try (var ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long pos = 0;
        ByteBuffer header = ByteBuffer.allocate(27);
        while (pos + header.capacity() <= ch.size()) {
          header.clear();
          ch.read(header, pos);
          long base = header.getLong(0);
          int length = header.getInt(8);
          long last = base + header.getInt(23);
          long end = pos + 12 + length;
          if (offsets.stream().anyMatch(o -> o >= base && o <= last)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, end - 1);
            b.put(0, (byte) (b.get(0) ^ 0xff)).rewind();
            ch.write(b, end - 1);
            damaged.add(new long[] {base, last});
          }
          pos = end;
        }
      }
    }
    return damaged;
  }
}
