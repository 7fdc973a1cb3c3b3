package dev.handoff.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The topic settings on which "a completed stash survives a broker failure" and "a paused zombie
 * stays fenced" depend, judged at start. A finding is either a risk the log refuses unless the
 * builder accepted it by name ({@code acceptDataLossRisk}), or a judgement it only warns about.
 *
 * <p>{@code delete.retention.ms} is judged against the nodes' {@code endedRetention}, which the log
 * is told through its own builder option (it cannot read it from the node): a node that was paused,
 * or replays, for up to {@code endedRetention} must still find every tombstone written meanwhile,
 * or it keeps slots in memory that the others removed.
 */
final class TopicDurability {

  /** The settings judged here; the names {@code acceptDataLossRisk} accepts. */
  static final Set<String> CHECKED =
      Set.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
          TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG,
          TopicConfig.DELETE_RETENTION_MS_CONFIG,
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG);

  /** Below this a topic cannot carry even a 1 KiB state next to the log's framing reserve. */
  static final int MIN_MAX_MESSAGE_BYTES = LogSettings.FRAMING_RESERVE + 1024;

  /** One setting's value and whether it was set on the topic itself (not a broker default). */
  record Setting(String value, boolean onTopic) {}

  /** What is wrong with one setting; {@code refused} findings fail start unless accepted. */
  record Finding(String setting, String problem, boolean refused) {}

  private TopicDurability() {}

  /**
   * Judges a topic's settings. {@code config} holds the settings known (all of them for an existing
   * topic; for one about to be created, those the builder sets); a missing one is not judged.
   */
  static List<Finding> check(
      String topic, int replicationFactor, Map<String, Setting> config, Duration endedRetention) {
    var out = new ArrayList<Finding>();
    String t = "Topic '" + topic + "'";

    Setting policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
    if (policy != null
        && !policy.value().replace(" ", "").equalsIgnoreCase(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      out.add(
          new Finding(
              TopicConfig.CLEANUP_POLICY_CONFIG,
              t
                  + " has cleanup.policy="
                  + policy.value()
                  + "; the Handoff delta log needs cleanup.policy=compact only (with 'delete' the"
                  + " state of sessions would expire"
                  + retentionThatDeletes(config)
                  + "). Change the topic's cleanup.policy to compact or use another topic.",
              true));
    }

    Integer minIsr = intValue(config.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG));
    if (minIsr != null && replicationFactor > 0) {
      if (minIsr > replicationFactor) {
        out.add(
            new Finding(
                TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
                t
                    + " has min.insync.replicas="
                    + minIsr
                    + " with replication factor "
                    + replicationFactor
                    + ": no append can ever be acknowledged. Set min.insync.replicas="
                    + Math.min(2, replicationFactor)
                    + ".",
                true));
      } else if (replicationFactor >= 3 && minIsr < 2) {
        out.add(
            new Finding(
                TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
                t
                    + " has min.insync.replicas="
                    + minIsr
                    + " with replication factor "
                    + replicationFactor
                    + ": a stash acknowledged by one broker alone is lost if that broker fails."
                    + " Set min.insync.replicas=2.",
                true));
      } else if (replicationFactor == 2 && minIsr < 2) {
        out.add(
            new Finding(
                TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
                t
                    + " has min.insync.replicas=1 with replication factor 2: a stash may be"
                    + " acknowledged by one broker alone and be lost with it; min.insync.replicas=2"
                    + " would instead stop appends while either broker is down.",
                false));
      }
    }

    Setting unclean = config.get(TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG);
    if (unclean != null && Boolean.parseBoolean(unclean.value().trim())) {
      out.add(
          new Finding(
              TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG,
              t
                  + " has unclean.leader.election.enable=true"
                  + (unclean.onTopic() ? "" : " (a broker default)")
                  + ": a replica that missed acknowledged stashes can become leader and drop them."
                  + " Set unclean.leader.election.enable=false on the topic.",
              true));
    }

    Long deleteRetention = longValue(config.get(TopicConfig.DELETE_RETENTION_MS_CONFIG));
    if (deleteRetention != null && deleteRetention < endedRetention.toMillis()) {
      out.add(
          new Finding(
              TopicConfig.DELETE_RETENTION_MS_CONFIG,
              t
                  + " has delete.retention.ms="
                  + deleteRetention
                  + ", shorter than the nodes' endedRetention of "
                  + endedRetention
                  + ": a node paused or replaying for longer than "
                  + Duration.ofMillis(deleteRetention)
                  + " can miss tombstones and keep sessions the others removed. Set"
                  + " delete.retention.ms="
                  + endedRetention.toMillis()
                  + " or more (or lower endedRetention on StateHandoff and on this log"
                  + " together).",
              true));
    }

    Integer maxBytes = intValue(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
    if (maxBytes != null && maxBytes < MIN_MAX_MESSAGE_BYTES) {
      out.add(
          new Finding(
              TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
              t
                  + " has max.message.bytes="
                  + maxBytes
                  + ": after the "
                  + LogSettings.FRAMING_RESERVE
                  + " bytes the log keeps for key and framing there is less than 1 KiB for a"
                  + " state (and writer schemas may not fit). Set max.message.bytes="
                  + MIN_MAX_MESSAGE_BYTES
                  + " or more (Kafka's default is 1048588).",
              true));
    }

    // Kafka deletes by time or size only when cleanup.policy includes 'delete' (refused above);
    // on a compact-only topic these are inert, but one policy change away from deleting sessions.
    boolean policyRefused =
        out.stream().anyMatch(f -> f.setting().equals(TopicConfig.CLEANUP_POLICY_CONFIG));
    if (!policyRefused) {
      for (String key :
          List.of(TopicConfig.RETENTION_MS_CONFIG, TopicConfig.RETENTION_BYTES_CONFIG)) {
        Setting s = config.get(key);
        Long v = longValue(s);
        if (s != null && s.onTopic() && v != null && v >= 0) {
          out.add(
              new Finding(
                  key,
                  t
                      + " sets "
                      + key
                      + "="
                      + v
                      + ": inert while cleanup.policy=compact, but if 'delete' is ever added to"
                      + " the policy it deletes the state of sessions "
                      + (key.equals(TopicConfig.RETENTION_MS_CONFIG)
                          ? "not written for " + Duration.ofMillis(v)
                          : "beyond " + v + " bytes per partition")
                      + ". Set it to -1 unless that is wanted.",
                  false));
        }
      }
    }
    return out;
  }

  private static String retentionThatDeletes(Map<String, Setting> config) {
    var parts = new ArrayList<String>();
    Long ms = longValue(config.get(TopicConfig.RETENTION_MS_CONFIG));
    if (ms != null && ms >= 0) {
      parts.add(
          "retention.ms=" + ms + " deletes sessions not written for " + Duration.ofMillis(ms));
    }
    Long bytes = longValue(config.get(TopicConfig.RETENTION_BYTES_CONFIG));
    if (bytes != null && bytes >= 0) {
      parts.add("retention.bytes=" + bytes + " deletes the oldest beyond that size per partition");
    }
    return parts.isEmpty() ? "" : ": " + String.join(", ", parts);
  }

  private static Integer intValue(Setting s) {
    Long v = longValue(s);
    return v == null ? null : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
  }

  private static Long longValue(Setting s) {
    if (s == null || s.value() == null) {
      return null;
    }
    try {
      return Long.parseLong(s.value().trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
