package dev.handoff.kafka;

import java.util.Map;

/**
 * The consumer configuration a {@link KafkaDeltaLog} derives for itself, for the bench's bare
 * consumer baseline "with Handoff's client settings" (in log-sync's package to reach its
 * package-private {@link ClientConfigs} and {@link ClientBuffers}).
 */
public final class DerivedClientSettings {
  private DerivedClientSettings() {}

  /**
   * The reader's consumer configuration of a log with no client properties, the default memory
   * budget for {@code maxHeap} and a topic of {@code partitions} partitions (the deserializers are
   * the log's, {@code ByteBuffer} slices of the fetched data).
   */
  public static Map<String, Object> consumer(
      String bootstrap, String clientId, int partitions, long maxHeap) {
    var buffers =
        ClientBuffers.derive(ClientBuffers.defaultBudget(maxHeap), partitions, partitions);
    return ClientConfigs.consumer(Map.of(), bootstrap, clientId, buffers);
  }

  /** The same log's replay consumer configuration (bulk-read settings, see log-sync's README). */
  public static Map<String, Object> replayConsumer(
      String bootstrap, String clientId, int partitions, long maxHeap) {
    var buffers =
        ClientBuffers.derive(ClientBuffers.defaultBudget(maxHeap), partitions, partitions);
    return ClientConfigs.replayConsumer(Map.of(), bootstrap, clientId, buffers);
  }

  /**
   * The steady fetch settings alone ({@code fetch.max.bytes}, {@code max.partition.fetch.bytes},
   * {@code max.poll.records}): given to a log as client properties, its replay consumer gets them
   * too, so one consumer replays and tails with them, as before the replay consumer existed.
   */
  public static Map<String, Object> steadyFetchSettings(int partitions, long maxHeap) {
    return ClientBuffers.derive(ClientBuffers.defaultBudget(maxHeap), partitions, partitions)
        .consumer();
  }
}
