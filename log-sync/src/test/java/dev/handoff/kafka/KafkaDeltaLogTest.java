package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import dev.handoff.testkit.TopicRecords;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KafkaDeltaLog against a real embedded broker (KRaft, in-process). */
class KafkaDeltaLogTest {

  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static EmbeddedKafka kafka;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = EmbeddedKafka.builder().brokers(1).fastCompaction(true).start();
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

  private static String newTopic() {
    return "log-test-" + TOPICS.incrementAndGet();
  }

  private KafkaDeltaLogBuilder logOn(String topic) {
    return logOn(topic, 3);
  }

  private KafkaDeltaLogBuilder logOn(String topic, int partitions) {
    return KafkaDeltaLog.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topic(topic)
        .partitions(partitions)
        .replicationFactor(1)
        .requestTimeout(Duration.ofSeconds(20));
  }

  private KafkaDeltaLog open(KafkaDeltaLogBuilder builder) {
    KafkaDeltaLog log = builder.build();
    toClose.add(log);
    return log;
  }

  private static SlotState state(long seq, String value) {
    return new SlotState(
        1, SlotState.SELF, seq, 1000 + seq, value.getBytes(StandardCharsets.UTF_8), false);
  }

  private static <T> T join(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void replayAfterRestartRebuildsTheSameMap() throws Exception {
    String topic = newTopic();
    var first = new Recorder();
    KafkaDeltaLog writer = open(logOn(topic));
    join(writer.start(first));
    List<CompletableFuture<LogPosition>> acks = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String session = "game-" + (i % 40);
      String w = "node-" + (i % 3) + "#1";
      acks.add(writer.append(new SlotRecord(session, w, state(i, "v" + i))));
      if (i % 37 == 0) {
        acks.add(writer.append(SlotRecord.tombstone(session, "node-0#1")));
      }
    }
    for (var a : acks) {
      join(a);
    }
    join(writer.barrier());
    Map<Recorder.Slot, SlotState> expected = first.liveSlots();
    assertThat(expected).hasSizeGreaterThan(40);
    writer.close();

    var replayed = new Recorder();
    KafkaDeltaLog restarted = open(logOn(topic));
    join(restarted.start(replayed));
    // Ready means replayed to the end offsets: everything is there the moment start completes.
    assertThat(replayed.liveSlots()).isEqualTo(expected);
    assertThat(replayed.size()).isEqualTo(first.size());
    assertThat(replayed.replicaView("")).isEqualTo(first.replicaView("")).isNotEmpty();
    assertThat(restarted.skippedRecords()).isZero();
    assertThat(restarted.isReady()).isTrue();
  }

  @Test
  void everyRecordOfASessionLandsInOnePartitionInAppendOrder() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(logOn(topic));
    join(log.start(sink));
    Map<String, Integer> partitionOf = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      String session = "s" + (i % 10);
      LogPosition p =
          join(log.append(new SlotRecord(session, "w" + (i % 4) + "#1", state(i, "x"))));
      assertThat(p.partition()).isEqualTo(KafkaDeltaLog.partitionFor(session, 3));
      partitionOf.merge(
          session,
          p.partition(),
          (a, b) -> {
            assertThat(b).isEqualTo(a);
            return a;
          });
    }
    join(log.barrier());
    Map<String, Long> lastOffset = new HashMap<>();
    for (LogEntry e : sink.entries()) {
      assertThat(e.partition()).isEqualTo(partitionOf.get(e.record().session()));
      Long before = lastOffset.put(e.record().session(), e.offset());
      if (before != null) {
        assertThat(e.offset()).isGreaterThan(before);
      }
    }
  }

  @Test
  void replayAfterRealCompactionWithConcurrentWritersRebuildsTheSameMap() throws Exception {
    String topic = newTopic();
    var builder = logOn(topic).acceptDataLossRisk("delete.retention.ms");
    EmbeddedKafka.fastCompactionTopicConfig().forEach(builder::topicConfig);

    var everything = new Recorder();
    KafkaDeltaLog observer = open(builder);
    join(observer.start(everything));

    // Three writers hammer overlapping sessions at once; each writer's later record for a slot
    // supersedes its earlier ones, and some slots end in tombstones.
    List<KafkaDeltaLog> writers = new ArrayList<>();
    for (int w = 0; w < 3; w++) {
      KafkaDeltaLog writer = open(logOn(topic).acceptDataLossRisk("delete.retention.ms"));
      join(writer.start(new Recorder()));
      writers.add(writer);
    }
    int rounds = 40;
    int sessions = 25;
    List<CompletableFuture<Void>> threads = new ArrayList<>();
    for (int w = 0; w < writers.size(); w++) {
      int id = w;
      KafkaDeltaLog writer = writers.get(w);
      threads.add(
          CompletableFuture.runAsync(
              () -> {
                var random = new Random(id);
                List<CompletableFuture<LogPosition>> acks = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                  for (int s = 0; s < sessions; s++) {
                    String session = "g" + s;
                    String writerId = "node" + id + "#" + 1;
                    if (r == rounds - 1 && random.nextInt(5) == 0) {
                      acks.add(writer.append(SlotRecord.tombstone(session, writerId)));
                    } else {
                      acks.add(
                          writer.append(
                              new SlotRecord(session, writerId, state(r, id + "/" + r + "/" + s))));
                    }
                  }
                }
                acks.forEach(CompletableFuture::join);
              }));
    }
    for (var t : threads) {
      join(t);
    }
    join(observer.barrier());
    int written = everything.size();
    assertThat(written).isEqualTo(3 * rounds * sessions);
    Map<Recorder.Slot, SlotState> expected = everything.liveSlots();

    // Roll segments (by appending to every partition) until the cleaner has really compacted.
    List<String> fillers = new ArrayList<>();
    for (int i = 0; fillers.size() < 3; i++) {
      if (KafkaDeltaLog.partitionFor("filler-" + i, 3) == fillers.size()) {
        fillers.add("filler-" + i);
      }
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () -> {
              for (String filler : fillers) {
                join(writers.get(0).append(new SlotRecord(filler, "roller#1", state(0, "f"))));
              }
              return countRecords(topic) < written / 2;
            });

    var replayed = new Recorder();
    KafkaDeltaLog rebuilt = open(logOn(topic).acceptDataLossRisk("delete.retention.ms"));
    join(rebuilt.start(replayed));
    Map<Recorder.Slot, SlotState> got = replayed.liveSlots();
    got.keySet().removeIf(slot -> slot.session().startsWith("filler-"));
    assertThat(got).isEqualTo(expected);
    assertThat(replayed.size()).as("compaction removed records").isLessThan(written / 2);
    // And core's replica reads the same sessions, owners and values from both.
    Map<String, String> fullView = everything.replicaView("filler-");
    assertThat(fullView).hasSizeGreaterThan(10);
    assertThat(replayed.replicaView("filler-")).isEqualTo(fullView);
  }

  @Test
  void barrierReturnsOnlyAfterAWriteFromAnotherClientIsVisible() throws Exception {
    String topic = newTopic();
    var readerSink = new Recorder();
    KafkaDeltaLog reader = open(logOn(topic));
    KafkaDeltaLog writer = open(logOn(topic));
    join(reader.start(readerSink));
    join(writer.start(new Recorder()));
    for (int i = 0; i < 30; i++) {
      String session = "session-" + i;
      join(writer.append(new SlotRecord(session, "writer#1", state(i, "v"))));
      join(reader.barrier());
      assertThat(readerSink.contains(session, "writer#1", i))
          .as("record %d visible right after the barrier", i)
          .isTrue();
    }
  }

  @Test
  void concurrentBarriersAllComplete() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log = open(logOn(topic));
    join(log.start(new Recorder()));
    List<CompletableFuture<Void>> barriers = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      log.append(new SlotRecord("s" + i, "w#1", state(i, "v")));
      barriers.add(log.barrier());
    }
    join(CompletableFuture.allOf(barriers.toArray(CompletableFuture[]::new)));
  }

  @Test
  void undecodableRecordsAreSkippedAndCountedWhileGoodOnesAroundThemApply() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(logOn(topic, 1));
    join(log.start(sink));

    byte[] goodValue = WireFormat.encode(state(1, "good"));
    byte[] randomBytes = new byte[64];
    new Random(7).nextBytes(randomBytes);
    byte[] wrongMagic = goodValue.clone();
    wrongMagic[0] = 0x00;
    byte[] unknownFingerprint = goodValue.clone();
    unknownFingerprint[4] ^= 0x7f;
    byte[] truncated = java.util.Arrays.copyOf(goodValue, goodValue.length - 3);
    byte[] slotKey = LogKey.slot("bad", "w#1");

    join(log.append(new SlotRecord("before", "w#1", state(1, "a"))));
    try (var raw = rawProducer()) {
      raw.send(new ProducerRecord<>(topic, 0, slotKey, randomBytes)).get();
      raw.send(new ProducerRecord<>(topic, 0, slotKey, wrongMagic)).get();
      raw.send(new ProducerRecord<>(topic, 0, slotKey, unknownFingerprint)).get();
      raw.send(new ProducerRecord<>(topic, 0, slotKey, truncated)).get();
      raw.send(new ProducerRecord<>(topic, 0, new byte[] {0x7f, 1, 2}, goodValue)).get();
      raw.send(new ProducerRecord<>(topic, 0, new byte[0], goodValue)).get();
      raw.send(new ProducerRecord<>(topic, 0, LogKey.writerSchema(1L), "{".getBytes())).get();
    }
    join(log.append(new SlotRecord("after", "w#1", state(2, "b"))));
    join(log.barrier());

    assertThat(log.skippedRecords()).isEqualTo(7);
    assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.UNDECODABLE)).isEqualTo(5);
    assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.UNKNOWN_SCHEMA)).isEqualTo(1);
    assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.BAD_SCHEMA_RECORD)).isEqualTo(1);
    assertThat(sink.entries())
        .extracting(e -> e.record().session())
        .containsExactly("before", "after");
    assertThat(log.failureCause()).isEmpty();

    // A fresh replay skips the same records and applies the same good ones.
    var again = new Recorder();
    KafkaDeltaLog replay = open(logOn(topic));
    join(replay.start(again));
    assertThat(replay.skippedRecords()).isEqualTo(7);
    assertThat(replay.skippedRecords(KafkaDeltaLog.SkipReason.UNKNOWN_SCHEMA)).isEqualTo(1);
    assertThat(again.liveSlots()).isEqualTo(sink.liveSlots());
  }

  @Test
  void aTopicWithCleanupPolicyDeleteIsRefusedWithAClearMessage() throws Exception {
    for (String policy : List.of("delete", "compact,delete")) {
      String topic = newTopic();
      try (Admin admin = Admin.create(kafka.adminProperties())) {
        admin
            .createTopics(
                List.of(
                    new NewTopic(topic, 1, (short) 1).configs(Map.of("cleanup.policy", policy))))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      KafkaDeltaLog log = open(logOn(topic));
      assertThat(log.start(new Recorder()))
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableThat()
          .havingRootCause()
          .isInstanceOf(KafkaDeltaLogException.class)
          .withMessageContaining("Topic '" + topic + "'")
          .withMessageContaining("cleanup.policy=" + policy)
          .withMessageContaining("compact only");
    }
  }

  @Test
  void aMissingTopicIsCreatedCompactOnlyWithTheConfiguredSettings() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log = open(logOn(topic, 4).minCompactionLag(Duration.ofSeconds(5)));
    join(log.start(new Recorder()));
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      var resource =
          new org.apache.kafka.common.config.ConfigResource(
              org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
      var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(config.get("min.compaction.lag.ms").value()).isEqualTo("5000");
      assertThat(config.get("segment.ms").value()).isEqualTo("3600000");
      assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions())
          .hasSize(4);
    }
  }

  @Test
  void anOversizeStateFailsBeforeAnythingIsSent() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log = open(logOn(topic));
    join(log.start(new Recorder()));
    long before = countRecords(topic);
    int limit = log.maxStateBytes();
    assertThat(limit).isBetween(1_000_000, 1_048_576);
    byte[] big = new byte[limit + 1];
    var f = log.append(new SlotRecord("huge", "w#1", new SlotState(1, -1, 1, 1, big, false)));
    assertThat(f)
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableThat()
        .havingRootCause()
        .isInstanceOf(IllegalArgumentException.class)
        .withMessageContaining("'huge'")
        .withMessageContaining(Integer.toString(limit + 1))
        .withMessageContaining(Integer.toString(limit));
    // A state exactly at the limit goes through.
    join(
        log.append(
            new SlotRecord("fits", "w#1", new SlotState(1, -1, 1, 1, new byte[limit], false))));
    assertThat(countRecords(topic)).isEqualTo(before + 1);
  }

  @Test
  void aTombstoneIsAKafkaTombstoneUnderTheSlotKey() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(logOn(topic));
    join(log.start(sink));
    join(log.append(new SlotRecord("ended", "w#1", state(1, "v"))));
    LogPosition at = join(log.append(SlotRecord.tombstone("ended", "w#1")));
    join(log.barrier());
    assertThat(sink.liveSlots()).doesNotContainKey(new Recorder.Slot("ended", "w#1"));
    try (var consumer =
        new KafkaConsumer<byte[], byte[]>(
            Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "key.deserializer", ByteArrayDeserializer.class,
                "value.deserializer", ByteArrayDeserializer.class))) {
      var tp = new TopicPartition(topic, at.partition());
      consumer.assign(List.of(tp));
      consumer.seek(tp, at.offset());
      var records = consumer.poll(Duration.ofSeconds(10)).records(tp);
      assertThat(records).isNotEmpty();
      assertThat(records.get(0).value()).isNull();
      assertThat(records.get(0).key()).isEqualTo(LogKey.slot("ended", "w#1"));
    }
  }

  @Test
  void aTopicTooSmallForTheConfiguredStateSizeFailsStart() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log =
        open(logOn(topic).topicConfig("max.message.bytes", "100000").maxStateBytes(500_000));
    assertThat(log.start(new Recorder()))
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableThat()
        .havingRootCause()
        .withMessageContaining("maxStateBytes=500000")
        .withMessageContaining("topic '" + topic + "'")
        .withMessageContaining("max.message.bytes=100000");
  }

  @Test
  void replayProgressReachesTheListenerAndEndsAtOneHundredPercent() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog writer = open(logOn(topic));
    join(writer.start(new Recorder()));
    List<CompletableFuture<LogPosition>> acks = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      acks.add(writer.append(new SlotRecord("s" + i, "w#1", state(i, "x".repeat(100)))));
    }
    for (var a : acks) {
      join(a);
    }
    List<ReplayProgress> reports = new CopyOnWriteArrayList<>();
    KafkaDeltaLog reader =
        open(
            logOn(topic)
                .progressInterval(Duration.ofMillis(1))
                .listener(
                    new KafkaDeltaLog.Listener() {
                      @Override
                      public void onReplayProgress(ReplayProgress progress) {
                        reports.add(progress);
                      }
                    }));
    join(reader.start(new Recorder()));
    assertThat(reports).isNotEmpty();
    ReplayProgress last = reports.get(reports.size() - 1);
    assertThat(last.done()).isTrue();
    assertThat(last.percent()).isEqualTo(100.0);
    assertThat(last.records()).isGreaterThanOrEqualTo(2000);
    assertThat(last.bytes()).isGreaterThan(2000L * 100);
    assertThat(reports).filteredOn(ReplayProgress::done).hasSize(1);
    for (int i = 1; i < reports.size(); i++) {
      assertThat(reports.get(i).percent()).isGreaterThanOrEqualTo(reports.get(i - 1).percent());
      assertThat(reports.get(i).records()).isGreaterThanOrEqualTo(reports.get(i - 1).records());
    }
  }

  @Test
  void clientPropertiesReachTheProducerTheConsumerAndTheAdminClient() throws Exception {
    String topic = newTopic();
    RecordingReporter.CLIENT_IDS.clear();
    KafkaDeltaLog log =
        open(
            logOn(topic)
                .clientProperty("metric.reporters", RecordingReporter.class.getName())
                .clientProperty("client.id", "passthrough-" + topic));
    join(log.start(new Recorder()));
    Set<String> ids = new HashSet<>(RecordingReporter.CLIENT_IDS);
    assertThat(ids)
        .contains(
            "passthrough-" + topic + "-handoff-log-admin-" + topic,
            "passthrough-" + topic + "-handoff-log-producer-" + topic,
            "passthrough-" + topic + "-handoff-log-reader-" + topic);
  }

  @Test
  void closeFailsPendingBarriersAndLaterCalls() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log = logOn(topic).build();
    join(log.start(new Recorder()));
    log.close();
    log.close();
    assertThat(log.barrier()).isCompletedExceptionally();
    assertThat(log.append(SlotRecord.tombstone("s", "w#1")))
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableThat()
        .withMessageContaining("closed");
  }

  @Test
  void aReaderThatCannotRunFailsStartLoudlyAndRejectsLaterCalls() throws Exception {
    String topic = newTopic();
    List<Throwable> reported = new CopyOnWriteArrayList<>();
    KafkaDeltaLog log =
        open(
            logOn(topic)
                .clientProperty("max.poll.records", "-1")
                .listener(
                    new KafkaDeltaLog.Listener() {
                      @Override
                      public void onReaderFailed(Throwable cause) {
                        reported.add(cause);
                      }
                    }));
    assertThat(log.start(new Recorder()))
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableThat()
        .withMessageContaining("reader of topic '" + topic + "' stopped")
        .withMessageContaining("max.poll.records");
    assertThat(reported).hasSize(1);
    assertThat(log.failureCause()).containsSame(reported.get(0));
    assertThat(log.barrier()).isCompletedExceptionally();
    assertThat(log.append(SlotRecord.tombstone("s", "w#1"))).isCompletedExceptionally();
  }

  @Test
  void anErrorThatKillsTheReaderCompletesStoppedEvenIfTheListenerThrowsToo() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log =
        open(
            logOn(topic, 1)
                .listener(
                    new KafkaDeltaLog.Listener() {
                      @Override
                      public void onReaderFailed(Throwable cause) {
                        throw new AssertionError("listener bug");
                      }
                    }));
    join(
        log.start(
            e -> {
              if (e.record().session().equals("huge")) {
                throw new OutOfMemoryError("Java heap space (simulated)");
              }
            }));
    join(log.append(new SlotRecord("huge", "w#1", state(1, "h"))));
    assertThat(log.stopped())
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableThat()
        .withMessageContaining("reader of topic '" + topic + "' stopped")
        .withMessageContaining("OutOfMemoryError");
    assertThat(log.isReady()).isFalse();
    assertThat(log.append(SlotRecord.tombstone("s", "w#1")))
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableThat()
        .withMessageContaining("OutOfMemoryError");
    assertThat(log.barrier())
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableThat()
        .withMessageContaining("OutOfMemoryError");
  }

  @Test
  void anAppendWhoseWriterIdReadersWouldSkipFailsAndSendsNothing() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log = open(logOn(topic));
    join(log.start(new Recorder()));
    long before = countRecords(topic);
    for (String writer : List.of("no-epoch", "a#-1", "a#b#1")) {
      assertThat(log.append(new SlotRecord("s", writer, state(1, "x"))))
          .failsWithin(Duration.ofSeconds(1))
          .withThrowableThat()
          .havingRootCause()
          .isInstanceOf(IllegalArgumentException.class)
          .withMessageContaining("'" + writer + "'")
          .withMessageContaining("nothing was sent");
    }
    assertThat(countRecords(topic)).isEqualTo(before);
  }

  @Test
  void aSinkThatThrowsIsCountedAndTheReaderGoesOn() throws Exception {
    String topic = newTopic();
    var good = new Recorder();
    KafkaDeltaLog log = open(logOn(topic, 1));
    join(
        log.start(
            e -> {
              if (e.record().session().equals("poison")) {
                throw new IllegalStateException("sink bug");
              }
              good.accept(e);
            }));
    join(log.append(new SlotRecord("poison", "w#1", state(1, "p"))));
    join(log.append(new SlotRecord("fine", "w#1", state(2, "f"))));
    join(log.barrier());
    assertThat(log.sinkFailures()).isEqualTo(1);
    assertThat(log.skippedRecords(KafkaDeltaLog.SkipReason.SINK_FAILED)).isEqualTo(1);
    assertThat(log.skippedRecords()).as("the sink's failures are not the log's").isZero();
    assertThat(good.contains("fine", "w#1", 2)).isTrue();
    assertThat(log.failureCause()).isEmpty();
  }

  @Test
  void startIsIdempotentForTheSameSinkAndRefusesAnother() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(logOn(topic));
    CompletableFuture<Void> first = log.start(sink);
    assertThat(log.start(sink)).isSameAs(first);
    assertThatThrownBy(() -> log.start(new Recorder()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("topic '" + topic + "'")
        .hasMessageContaining("another sink");
    join(first);
    assertThat(log.start(sink)).isSameAs(first);
    // One reader: every record reaches the sink once.
    join(log.append(new SlotRecord("once", "w#1", state(1, "x"))));
    join(log.barrier());
    assertThat(sink.entries()).filteredOn(e -> e.record().session().equals("once")).hasSize(1);
  }

  @Test
  void closeIsIdempotentAndLaterStartsFail() throws Exception {
    String topic = newTopic();
    var sink = new Recorder();
    KafkaDeltaLog log = open(logOn(topic));
    CompletableFuture<Void> started = log.start(sink);
    join(started);
    log.close();
    assertThatCode(log::close).doesNotThrowAnyException();
    assertThat(log.start(sink)).isSameAs(started);

    KafkaDeltaLog neverStarted = open(logOn(newTopic()));
    neverStarted.close();
    neverStarted.close();
    CompletableFuture<Void> afterClose = neverStarted.start(sink);
    assertThat(afterClose)
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableThat()
        .withMessageContaining("closed");
    assertThat(neverStarted.start(sink)).isSameAs(afterClose);
  }

  @Test
  void closeFailsAStartThatCannotReachTheCluster() {
    KafkaDeltaLog log =
        open(
            KafkaDeltaLog.builder()
                .bootstrapServers("127.0.0.1:1")
                .topic(newTopic())
                .requestTimeout(Duration.ofSeconds(20)));
    CompletableFuture<Void> started = log.start(new Recorder());
    assertThat(started).isNotDone();
    log.close();
    assertThat(started)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableThat()
        .withMessageContaining("closed");
  }

  @Test
  void theReaderCountsWhatItAppliedAndRead() throws Exception {
    String topic = newTopic();
    KafkaDeltaLog log = open(logOn(topic, 1));
    join(log.start(new Recorder()));
    for (int i = 0; i < 5; i++) {
      join(log.append(new SlotRecord("s" + i, "w#1", state(i, "v"))));
    }
    join(log.barrier());
    // Five slot records applied; the two wire schema records (versions 1 and 2) and the layout
    // record (the partition count, recorded by the first node on a topic) were read too, but are
    // not applied.
    assertThat(log.counters.recordsApplied()).isEqualTo(5);
    assertThat(log.recordsRead()).isEqualTo(8);
    assertThat(log.bytesRead()).isPositive();
    assertThat(log.skippedRecords()).isZero();
    assertThat(log.sinkFailures()).isZero();
  }

  static long countRecords(String topic) {
    return TopicRecords.count(
        Map.of("bootstrap.servers", kafka.bootstrapServers()), topic, r -> true);
  }

  static KafkaProducer<byte[], byte[]> rawProducer() {
    return new KafkaProducer<>(
        Map.of(
            "bootstrap.servers", kafka.bootstrapServers(),
            "key.serializer", ByteArraySerializer.class,
            "value.serializer", ByteArraySerializer.class));
  }
}
