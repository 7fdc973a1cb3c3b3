package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The memory budget: its option, the client settings derived from it, and the heap estimate. */
class MemoryBudgetTest {

  private static final long MIB = 1 << 20;

  @Test
  void theBudgetIsValidatedSetOnceAndDefaultsToAnEighthOfTheHeapWithinBounds() {
    var b = KafkaDeltaLog.builder().bootstrapServers("127.0.0.1:9092");
    assertThatThrownBy(() -> b.memoryBudget(1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("memoryBudget must be at least 4194304 bytes, was 1000");
    b.memoryBudget(64 * MIB).checkHeap(false);
    assertThatThrownBy(() -> b.memoryBudget(32 * MIB))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("memoryBudget was already set to 67108864");
    assertThatThrownBy(() -> b.checkHeap(true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("checkHeap was already set to false");
    LogSettings s = b.build().settings;
    assertThat(s.memoryBudget()).isEqualTo(64 * MIB);
    assertThat(s.heapCheck()).isFalse();

    LogSettings d = KafkaDeltaLog.builder().bootstrapServers("x:1").build().settings;
    assertThat(d.memoryBudget())
        .isEqualTo(ClientBuffers.defaultBudget(Runtime.getRuntime().maxMemory()));
    assertThat(d.heapCheck()).isTrue();
    assertThat(ClientBuffers.defaultBudget(128 * MIB)).isEqualTo(16 * MIB);
    assertThat(ClientBuffers.defaultBudget(512 * MIB)).isEqualTo(64 * MIB);
    assertThat(ClientBuffers.defaultBudget(8192 * MIB)).isEqualTo(256 * MIB);
  }

  @Test
  void aBudgetTooSmallForTheLargestRecordIsRefusedAtBuildNamingBothNumbers() {
    assertThatThrownBy(
            () ->
                KafkaDeltaLog.builder()
                    .bootstrapServers("x:1")
                    .memoryBudget(4 * MIB)
                    .clientProperty("max.request.size", 4 * MIB)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("memoryBudget=4194304")
        .hasMessageContaining("buffer.memory=2097152")
        .hasMessageContaining("max.request.size=4194304");
    // An explicit buffer.memory is the user's call.
    KafkaDeltaLog.builder()
        .bootstrapServers("x:1")
        .memoryBudget(4 * MIB)
        .clientProperty("max.request.size", 4 * MIB)
        .clientProperty("buffer.memory", 8 * MIB)
        .build();
  }

  @Test
  void theConsumerGetsAtMostHalfAndOneMibPerPartitionTheProducerTheRest() {
    var twelve = ClientBuffers.derive(64 * MIB, 12, 12);
    assertThat(twelve.partitionFetchBytes()).isEqualTo((int) MIB);
    assertThat(twelve.fetchMaxBytes()).isEqualTo((int) (6 * MIB));
    assertThat(twelve.bufferMemory()).isEqualTo(52 * MIB);
    assertThat(twelve.maxPollRecords()).isEqualTo(5000);

    var small = ClientBuffers.derive(16 * MIB, 12, 12);
    assertThat(small.partitionFetchBytes()).isEqualTo((int) (8 * MIB / 12));
    assertThat(small.fetchMaxBytes()).isEqualTo((int) (4 * MIB));
    assertThat(small.bufferMemory()).isEqualTo(8 * MIB);

    // A topic with more partitions than configured: the producer's share stays, each partition
    // gets less.
    var more = ClientBuffers.derive(16 * MIB, 12, 48);
    assertThat(more.bufferMemory()).isEqualTo(8 * MIB);
    assertThat((long) more.partitionFetchBytes() * 48).isLessThanOrEqualTo(8 * MIB);

    // What the clients may hold never exceeds the budget with derived values only.
    for (var b : new ClientBuffers[] {twelve, small, more}) {
      assertThat(ClientBuffers.effectiveBytes(b.producer(), b.consumer(), 48))
          .isLessThanOrEqualTo(b.budget());
    }
  }

  @Test
  void theReplayConsumerReadsWithHalfTheBudgetAndNeverLessThanTheSteadyOne() {
    // 256 MiB heap, 12 partitions: a 32 MiB budget, 16 MiB to replay with.
    var small = ClientBuffers.derive(32 * MIB, 12, 12);
    assertThat(small.partitionFetchBytes()).isEqualTo((int) MIB);
    assertThat(small.fetchMaxBytes()).isEqualTo((int) (6 * MIB));
    assertThat(small.replayPartitionFetchBytes()).isEqualTo((int) (16 * MIB / 12));
    assertThat(small.replayFetchMaxBytes()).isEqualTo((int) (8 * MIB));
    assertThat(small.replayMaxPollRecords()).isEqualTo(10_000);

    // The largest default budget: the bulk-read limits.
    var large = ClientBuffers.derive(256 * MIB, 12, 12);
    assertThat(large.replayPartitionFetchBytes()).isEqualTo((int) (128 * MIB / 12));
    assertThat(large.replayFetchMaxBytes()).isEqualTo((int) (64 * MIB));
    assertThat(ClientBuffers.derive(1024 * MIB, 12, 12).replayPartitionFetchBytes())
        .isEqualTo((int) (16 * MIB));

    // A budget whose consumer share is half already: the replay gets the steady settings.
    var tiny = ClientBuffers.derive(16 * MIB, 12, 12);
    assertThat(tiny.replayConsumer()).isEqualTo(tiny.consumer());

    // While replaying, the replay consumer's buffers stay within half the budget.
    for (var b : new ClientBuffers[] {small, large, tiny, ClientBuffers.derive(16 * MIB, 12, 48)}) {
      assertThat(ClientBuffers.effectiveBytes(Map.of("buffer.memory", 0), b.replayConsumer(), 48))
          .isLessThanOrEqualTo(Math.max(b.budget() / 2, b.budget() - b.bufferMemory()));
      assertThat(b.replayPartitionFetchBytes()).isGreaterThanOrEqualTo(b.partitionFetchBytes());
      assertThat(b.replayFetchMaxBytes()).isGreaterThanOrEqualTo(b.fetchMaxBytes());
    }
  }

  @Test
  void clientPropertiesGivenWinOverDerivedValues() {
    var buffers = ClientBuffers.derive(16 * MIB, 12, 12);
    Map<String, Object> props = Map.of("fetch.max.bytes", 50 * MIB, "buffer.memory", 32 * MIB);
    var consumer = ClientConfigs.consumer(props, "b:1", "c", buffers);
    var producer = ClientConfigs.producer(props, "b:1", "p", buffers);
    assertThat(consumer)
        .containsEntry("fetch.max.bytes", 50 * MIB)
        .containsEntry("max.partition.fetch.bytes", buffers.partitionFetchBytes())
        .doesNotContainKey("buffer.memory");
    assertThat(producer)
        .containsEntry("buffer.memory", 32 * MIB)
        .doesNotContainKey("fetch.max.bytes");
    assertThat(ClientBuffers.effectiveBytes(producer, consumer, 12)).isGreaterThan(16 * MIB);
    // The replay consumer too.
    assertThat(ClientConfigs.replayConsumer(props, "b:1", "r", buffers))
        .containsEntry("fetch.max.bytes", 50 * MIB)
        .containsEntry("max.partition.fetch.bytes", buffers.replayPartitionFetchBytes());
  }

  @Test
  void appendBufferBytesIsTheProducersShareOrTheBufferMemoryGiven() {
    try (var log = KafkaDeltaLog.builder().bootstrapServers("x:1").memoryBudget(64 * MIB).build()) {
      assertThat(log.appendBufferBytes()).isEqualTo(52 * MIB);
      assertThat(log.memoryBudget()).isEqualTo(64 * MIB);
    }
    try (var log =
        KafkaDeltaLog.builder()
            .bootstrapServers("x:1")
            .clientProperty("buffer.memory", "5000000")
            .build()) {
      assertThat(log.appendBufferBytes()).isEqualTo(5_000_000);
    }
  }

  @Test
  void distinctCountIsWithinAFewPercentAndIgnoresRepeats() {
    var count = new HeapFit.DistinctCount();
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 100_000; i++) {
        byte[] k = ("game-" + i + "node-1#7").getBytes(StandardCharsets.UTF_8);
        count.add(k, 0, k.length);
      }
    }
    assertThat(count.estimate()).isBetween(95_000L, 105_000L);
    var few = new HeapFit.DistinctCount();
    for (int i = 0; i < 300; i++) {
      byte[] k = ("s" + (i % 100)).getBytes(StandardCharsets.UTF_8);
      few.add(k, 0, k.length);
    }
    assertThat(few.estimate()).isBetween(95L, 105L);
  }

  @Test
  void theHeapCheckFailsWithSessionsBytesAndHeapOnceTheReplicaWouldNotFit() {
    var fit = new HeapFit("game-sessions", 100 * MIB, 16 * MIB, true);
    byte[] key = new byte[30];
    long bytes = 0;
    for (int i = 0; i < 40_000; i++) {
      key[0] = (byte) i;
      key[1] = (byte) (i >> 8);
      key[2] = (byte) (i >> 16);
      fit.onSlot(key, 0, key.length, 1024);
      bytes += 1054;
      fit.check(i / 1000.0, bytes);
    }
    // 40,000 × (1,054 + 400) B ≈ 55 MiB + 16 MiB of buffers: under 80 MiB.
    assertThat(fit.replicaBytes()).isBetween(50 * MIB, 60 * MIB);
    assertThatThrownBy(
            () -> {
              long b = 40_000L * 1054;
              for (int i = 40_000; i < 100_000; i++) {
                key[0] = (byte) i;
                key[1] = (byte) (i >> 8);
                key[2] = (byte) (i >> 16);
                fit.onSlot(key, 0, key.length, 1024);
                b += 1054;
                fit.check(50.0, b);
              }
            })
        .isInstanceOf(KafkaDeltaLogException.class)
        .hasMessageStartingWith("Topic 'game-sessions' does not fit this JVM's heap: ")
        .hasMessageContaining(" sessions so far (")
        .hasMessageContaining("16.0 MiB of Kafka client buffers")
        .hasMessageContaining("max heap of 100.0 MiB")
        .hasMessageContaining("-Xmx");
  }

  @Test
  void aTopicOfFewSessionsWrittenManyTimesIsNotMistakenForALargeOne() {
    var fit = new HeapFit("t", 64 * MIB, 16 * MIB, true);
    byte[] key = new byte[30];
    long bytes = 0;
    for (int i = 0; i < 200_000; i++) {
      key[0] = (byte) (i % 2000);
      key[1] = (byte) ((i % 2000) >> 8);
      fit.onSlot(key, 0, key.length, 1024);
      bytes += 1054;
      fit.check(i / 2000.0, bytes); // 200 MB read into a 64 MiB heap: 2,000 sessions fit
    }
    assertThat(fit.sessions()).isBetween(1900L, 2100L);
  }
}
