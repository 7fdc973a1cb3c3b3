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
    Set<String> acceptedRisks) {

  /** Bytes kept free, within a record's size limit, for the key and the framing. */
  static final int FRAMING_RESERVE = 4096;

  /** The producer's max.request.size as configured, or Kafka's default. */
  int maxRequestSize() {
    Object v = clientProperties.get("max.request.size");
    return v == null ? 1048576 : Integer.parseInt(v.toString().trim());
  }
}
