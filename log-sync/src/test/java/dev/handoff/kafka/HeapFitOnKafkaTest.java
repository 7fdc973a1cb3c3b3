package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import dev.handoff.testkit.EmbeddedKafka;
import dev.handoff.testkit.JvmProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The memory budget and the heap check on a real broker: the clients get the derived buffer
 * settings, a property given wins with a warning, and a JVM whose heap is too small for the topic
 * fails its start with the numbers instead of running out of memory.
 */
class HeapFitOnKafkaTest {

  private static final long MIB = 1 << 20;
  private static final AtomicInteger TOPICS = new AtomicInteger();
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
        .partitions(4)
        .replicationFactor(1)
        .requestTimeout(Duration.ofSeconds(20));
  }

  @Test
  void theClientsGetTheSettingsDerivedFromTheBudget() throws Exception {
    String topic = "budget-" + TOPICS.incrementAndGet();
    ConfigRecorder.CONFIGS.clear();
    try (var log =
        logOn(topic)
            .memoryBudget(16 * MIB)
            .clientProperty("client.id", topic)
            .clientProperty("metric.reporters", ConfigRecorder.class.getName())
            .build()) {
      log.start(e -> {}).get(30, TimeUnit.SECONDS);
      Map<String, Object> consumer =
          ConfigRecorder.CONFIGS.get(topic + "-handoff-log-reader-" + topic);
      Map<String, Object> producer =
          ConfigRecorder.CONFIGS.get(topic + "-handoff-log-producer-" + topic);
      // 4 partitions: the consumer gets 4 MiB (1 MiB each), the producer the other 12 MiB.
      assertThat(consumer)
          .containsEntry("max.partition.fetch.bytes", (int) MIB)
          .containsEntry("fetch.max.bytes", (int) (2 * MIB))
          .containsEntry("max.poll.records", 4096);
      assertThat(producer).containsEntry("buffer.memory", 12 * MIB);
      assertThat(log.appendBufferBytes()).isEqualTo(12 * MIB);
    }
  }

  @Test
  void aClientPropertyGivenWinsAndAWarningNamesItWhenItPassesTheBudget() throws Exception {
    String topic = "budget-" + TOPICS.incrementAndGet();
    ConfigRecorder.CONFIGS.clear();
    var appender = new ListAppender<ILoggingEvent>();
    appender.start();
    var logger = (Logger) LoggerFactory.getLogger(LogReader.class);
    logger.addAppender(appender);
    try (var log =
        logOn(topic)
            .memoryBudget(16 * MIB)
            .clientProperty("client.id", topic)
            .clientProperty("metric.reporters", ConfigRecorder.class.getName())
            .clientProperty("fetch.max.bytes", 50 << 20)
            .clientProperty("max.partition.fetch.bytes", 8 << 20)
            .build()) {
      log.start(e -> {}).get(30, TimeUnit.SECONDS);
      assertThat(ConfigRecorder.CONFIGS.get(topic + "-handoff-log-reader-" + topic))
          .containsEntry("fetch.max.bytes", 50 << 20)
          .containsEntry("max.partition.fetch.bytes", 8 << 20);
    } finally {
      logger.detachAppender(appender);
    }
    assertThat(appender.list)
        .filteredOn(e -> e.getLevel().toString().equals("WARN"))
        .map(ILoggingEvent::getFormattedMessage)
        .anySatisfy(
            m ->
                assertThat(m)
                    .contains("topic '" + topic + "'")
                    .contains("fetch.max.bytes=" + 50 * MIB)
                    .contains("max.partition.fetch.bytes=" + 8 * MIB)
                    .contains("more than memoryBudget=" + 16 * MIB));
  }

  @Test
  void aJvmWhoseHeapIsTooSmallForTheTopicFailsItsStartNamingSessionsBytesAndHeap()
      throws Exception {
    String topic = "heap-" + TOPICS.incrementAndGet();
    write(topic, 60_000, 1);
    // 60,000 × ~1.5 KiB ≈ 85 MiB of replica: not in 64 MiB.
    Outcome small = replayIn(topic, 64);
    assertThat(small.code()).isEqualTo(1);
    assertThat(small.line())
        .startsWith("FAILED Topic '" + topic + "' does not fit this JVM's heap: ")
        .contains(" sessions so far (")
        .contains("of Kafka client buffers (memoryBudget)")
        .containsPattern("max heap of 6[0-9]\\.[0-9] MiB")
        .contains("-Xmx");
    // The same topic in a heap that holds it.
    Outcome large = replayIn(topic, 256);
    assertThat(large.code()).isZero();
    assertThat(large.line()).isEqualTo("READY 60000");
  }

  @Test
  void aSmallReplicaWrittenManyTimesFitsASmallHeap() throws Exception {
    String topic = "heap-" + TOPICS.incrementAndGet();
    // 2,000 sessions written 40 times each: 80 MiB to read, 2,000 states to keep.
    write(topic, 2_000, 40);
    Outcome small = replayIn(topic, 64);
    assertThat(small.line()).isEqualTo("READY 2000");
    assertThat(small.code()).isZero();
  }

  private record Outcome(int code, String line) {}

  private static Outcome replayIn(String topic, int heapMegabytes) throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    JvmProcess child =
        JvmProcess.builder(SmallHeapReplay.class)
            .name("replay in " + heapMegabytes + " MiB")
            .maxHeapMegabytes(heapMegabytes)
            .args(kafka.bootstrapServers(), topic)
            .logFile(Path.of("target", "heap-fit", topic + "-" + heapMegabytes + "m.log"))
            .onOutputLine(lines::add)
            .start();
    int code = child.exited().get(180, TimeUnit.SECONDS);
    return new Outcome(code, lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1));
  }

  /** Appends {@code rounds} states of 1 KiB for each of {@code sessions} sessions. */
  private static void write(String topic, int sessions, int rounds) throws Exception {
    try (var log = logOn(topic).build()) {
      log.start(e -> {}).get(30, TimeUnit.SECONDS);
      var inFlight = new Semaphore(2000);
      var acks = new ArrayList<CompletableFuture<LogPosition>>();
      byte[] value = new byte[1024];
      long seq = 0;
      for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < sessions; i++) {
          inFlight.acquire();
          var state = new SlotState(1, SlotState.SELF, ++seq, 1000 + seq, value, false);
          var ack = log.append(new SlotRecord("game-" + i, "writer#1", state));
          ack.whenComplete((p, e) -> inFlight.release());
          acks.add(ack);
        }
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    }
  }
}
