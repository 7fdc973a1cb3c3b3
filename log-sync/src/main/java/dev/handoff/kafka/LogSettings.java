package dev.handoff.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/** The validated, immutable options of one {@link KafkaDeltaLog}. */
record LogSettings(
    String bootstrapServers,
    String topic,
    int partitions,
    short replicationFactor,
    Map<String, String> topicConfigs,
    Map<String, Object> clientProperties,
    int maxStateBytes,
    boolean maxStateBytesSet,
    Duration progressInterval,
    Duration requestTimeout,
    KafkaDeltaLog.Listener listener,
    Duration endedRetention,
    Set<String> acceptedRisks,
    String clientIdBase,
    long memoryBudget,
    boolean heapCheck) {

  /** Bytes kept free, within a record's size limit, for the key and the framing. */
  static final int FRAMING_RESERVE = 4096;

  /** The client buffer settings the memory budget gives for a topic of {@code partitions}. */
  ClientBuffers clientBuffers(int partitions) {
    return ClientBuffers.derive(memoryBudget, this.partitions, partitions);
  }

  /**
   * The {@code client.id} of the client of {@code role} ({@code producer}, {@code reader}, {@code
   * admin}), before a user-given {@code client.id} is put in front of it: {@code
   * handoff-log-<role>-<topic>} after a user's {@code client.id}, else {@code
   * <clientIdBase>-<role>}.
   */
  String clientIdSuffix(String role) {
    return clientProperties.containsKey("client.id")
        ? "handoff-log-" + role + "-" + topic
        : clientIdBase + "-" + role;
  }

  /** The producer's max.request.size as configured, or Kafka's default. */
  int maxRequestSize() {
    Object v = clientProperties.get("max.request.size");
    return v == null ? 1048576 : Integer.parseInt(v.toString().trim());
  }
}
