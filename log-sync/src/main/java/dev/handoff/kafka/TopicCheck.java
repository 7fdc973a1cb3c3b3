package dev.handoff.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Read-only tooling API: checks an existing topic's configuration against what the Handoff delta
 * log requires, without creating or changing anything. Meant for operator tools such as {@code
 * handoff-cli}; a {@link KafkaDeltaLog} runs the same requirement checks itself when it starts.
 *
 * <p>An {@link Severity#ERROR} is a setting with which {@link KafkaDeltaLog#start} fails unless the
 * log's builder accepts it by name ({@code acceptDataLossRisk}); the message is the one the log
 * fails with (for {@code delete.retention.ms}, judged against StateHandoff's default {@code
 * endedRetention} of 1 hour). A {@link Severity#WARNING} is a setting the log accepts but that
 * weakens a guarantee or lets dead state pile up.
 */
public final class TopicCheck {

  /** How serious a finding is. */
  public enum Severity {
    /** The delta log refuses the topic: start fails with this message. */
    ERROR,
    /** The delta log works, but a guarantee is weaker than with the recommended setting. */
    WARNING
  }

  /**
   * One thing found wrong with the topic.
   *
   * @param severity how serious it is
   * @param setting the topic setting concerned ({@code cleanup.policy}, {@code replication.factor})
   * @param message what is wrong and what to do
   */
  public record Finding(Severity severity, String setting, String message) {}

  /**
   * What the check saw and found.
   *
   * @param topic the topic
   * @param partitions its partition count
   * @param replicationFactor the smallest replica count of its partitions
   * @param configs every topic config with its effective value (defaults included)
   * @param maxStateBytes the largest state a log with default producer settings accepts on it
   * @param findings what is wrong, errors first; empty if nothing
   */
  public record Report(
      String topic,
      int partitions,
      int replicationFactor,
      Map<String, String> configs,
      int maxStateBytes,
      List<Finding> findings) {

    /** True if a {@link KafkaDeltaLog} would refuse the topic. */
    public boolean hasErrors() {
      return findings.stream().anyMatch(f -> f.severity() == Severity.ERROR);
    }
  }

  /** Kafka's default producer {@code max.request.size}. */
  private static final int DEFAULT_MAX_REQUEST_SIZE = 1048576;

  /** Kafka's default {@code segment.ms}: seven days. */
  private static final long KAFKA_DEFAULT_SEGMENT_MS = 604_800_000L;

  private TopicCheck() {}

  /**
   * Checks {@code topic} on the cluster {@code admin} talks to.
   *
   * @throws KafkaDeltaLogException if the topic does not exist ({@code getCause()} is an {@link
   *     UnknownTopicOrPartitionException}) or the cluster does not answer within {@code timeout}
   * @throws InterruptedException if interrupted while waiting for the cluster
   */
  public static Report check(Admin admin, String topic, Duration timeout)
      throws InterruptedException {
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(timeout, "timeout");
    TopicDescription description =
        get(admin.describeTopics(List.of(topic)).allTopicNames(), timeout, topic, "describe")
            .get(topic);
    var resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config =
        get(
                admin.describeConfigs(List.of(resource)).all(),
                timeout,
                topic,
                "describe the configuration of")
            .get(resource);
    var configs = new TreeMap<String, String>();
    var settings = new HashMap<String, TopicDurability.Setting>();
    for (var e : config.entries()) {
      configs.put(e.name(), e.value());
      if (e.value() != null) {
        settings.put(
            e.name(),
            new TopicDurability.Setting(
                e.value(), e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG));
      }
    }
    int replication =
        description.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
    return evaluate(topic, description.partitions().size(), replication, configs, settings);
  }

  /** The findings for a topic with these settings; pure, for tests and for {@link #check}. */
  static Report evaluate(
      String topic, int partitions, int replicationFactor, Map<String, String> configs) {
    var settings = new HashMap<String, TopicDurability.Setting>();
    configs.forEach(
        (k, v) -> {
          if (v != null) {
            settings.put(k, new TopicDurability.Setting(v, false));
          }
        });
    return evaluate(topic, partitions, replicationFactor, configs, settings);
  }

  /**
   * The durability findings are the log's own ({@link TopicDurability}, judged against
   * StateHandoff's default {@code endedRetention}): refused ones are errors carrying the message
   * start fails with, judgements are warnings. Replication below 3 and a week-long {@code
   * segment.ms} only warn.
   */
  private static Report evaluate(
      String topic,
      int partitions,
      int replicationFactor,
      Map<String, String> configs,
      Map<String, TopicDurability.Setting> settings) {
    var findings = new ArrayList<Finding>();
    for (var f :
        TopicDurability.check(
            topic, replicationFactor, settings, KafkaDeltaLogBuilder.DEFAULT_ENDED_RETENTION)) {
      findings.add(
          f.refused()
              ? new Finding(Severity.ERROR, f.setting(), TopicSetup.refusal(List.of(f)))
              : new Finding(Severity.WARNING, f.setting(), f.problem()));
    }
    int maxMessageBytes = intOr(configs.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), 1048588);
    int maxStateBytes =
        Math.min(maxMessageBytes, DEFAULT_MAX_REQUEST_SIZE) - LogSettings.FRAMING_RESERVE;
    if (replicationFactor < 3) {
      findings.add(
          new Finding(
              Severity.WARNING,
              "replication.factor",
              "Topic '"
                  + topic
                  + "' has replication factor "
                  + replicationFactor
                  + "; the delta log is the only durable copy of the sessions' state, so"
                  + " production topics should have 3 (what the log creates by default)."));
    }
    long segmentMs = longOr(configs.get(TopicConfig.SEGMENT_MS_CONFIG), KAFKA_DEFAULT_SEGMENT_MS);
    if (segmentMs >= KAFKA_DEFAULT_SEGMENT_MS) {
      findings.add(
          new Finding(
              Severity.WARNING,
              TopicConfig.SEGMENT_MS_CONFIG,
              "Topic '"
                  + topic
                  + "' has segment.ms="
                  + segmentMs
                  + "; the active segment is never compacted, so on a quiet topic dead state"
                  + " stays for that long (the log creates topics with segment.ms=3600000)."));
    }
    findings.sort((a, b) -> a.severity().compareTo(b.severity()));
    return new Report(
        topic,
        partitions,
        replicationFactor,
        Map.copyOf(configs),
        Math.max(0, maxStateBytes),
        List.copyOf(findings));
  }

  private static int intOr(String value, int fallback) {
    try {
      return value == null ? fallback : Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static long longOr(String value, long fallback) {
    try {
      return value == null ? fallback : Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static <T> T get(KafkaFuture<T> f, Duration timeout, String topic, String what)
      throws InterruptedException {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new KafkaDeltaLogException(
          "Could not " + what + " topic '" + topic + "': " + e.getCause().getMessage(),
          e.getCause());
    } catch (TimeoutException e) {
      throw new KafkaDeltaLogException(
          "Could not "
              + what
              + " topic '"
              + topic
              + "' within "
              + timeout
              + " (is the cluster reachable? check bootstrap.servers and security settings)",
          e);
    }
  }
}
