package dev.handoff.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the log's topic if it is missing, or checks an existing one. */
final class TopicSetup {

  private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

  /** What the log needs to know about its topic. */
  record Layout(int partitions, int maxMessageBytes) {}

  private TopicSetup() {}

  static Layout ensure(Admin admin, LogSettings s) throws InterruptedException {
    String topic = s.topic();
    long deadline = System.nanoTime() + s.requestTimeout().toNanos();
    TopicDescription description = describe(admin, topic, s.requestTimeout());
    if (description == null) {
      var newTopic =
          new NewTopic(topic, s.partitions(), s.replicationFactor()).configs(s.topicConfigs());
      try {
        get(admin.createTopics(List.of(newTopic)).all(), s.requestTimeout(), topic, "create");
        LOG.info(
            "Created topic '{}' with {} partitions, replication factor {}, configs {}",
            topic,
            s.partitions(),
            s.replicationFactor(),
            s.topicConfigs());
      } catch (KafkaDeltaLogException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
        LOG.info("Topic '{}' was created concurrently by another node", topic);
      }
      // Metadata of a new topic reaches every broker shortly after creation.
      while ((description = describe(admin, topic, s.requestTimeout())) == null) {
        if (System.nanoTime() > deadline) {
          throw new KafkaDeltaLogException(
              "Topic '" + topic + "' was created but is not visible after " + s.requestTimeout());
        }
        Thread.sleep(50);
      }
    } else if (description.partitions().size() != s.partitions()) {
      LOG.info(
          "Topic '{}' exists with {} partitions (configured {}); using {}. Never add partitions to"
              + " it: sessions are placed by hash of the session key modulo the partition count.",
          topic,
          description.partitions().size(),
          s.partitions(),
          description.partitions().size());
    }

    var resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Map<ConfigResource, Config> configs =
        get(
            admin.describeConfigs(List.of(resource)).all(),
            s.requestTimeout(),
            topic,
            "describe the configuration of");
    Config config = configs.get(resource);
    ConfigEntry policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
    String policyValue = policy == null ? null : policy.value();
    if (policyValue == null
        || !policyValue.replace(" ", "").equalsIgnoreCase(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      throw new KafkaDeltaLogException(
          "Topic '"
              + topic
              + "' has cleanup.policy="
              + policyValue
              + "; the Handoff delta log needs cleanup.policy=compact only (with 'delete' the"
              + " state of sessions would expire). Change the topic's cleanup.policy to compact or"
              + " use another topic.");
    }
    ConfigEntry maxBytes = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    int maxMessageBytes =
        maxBytes == null || maxBytes.value() == null
            ? 1048588
            : Integer.parseInt(maxBytes.value().trim());
    awaitLeaders(admin, topic, description.partitions().size(), s.requestTimeout());
    return new Layout(description.partitions().size(), maxMessageBytes);
  }

  /**
   * Waits until the leader of every partition answers {@code ListOffsets}, that is, has applied the
   * partition. Until then a produce request can fail with {@code NOT_LEADER_OR_FOLLOWER} while a
   * later one of the same idempotent producer to the same partition succeeds; the retries of the
   * first then fail with {@code OUT_OF_ORDER_SEQUENCE_NUMBER} until they expire (KAFKA-15591), and
   * a node that publishes its writer schemas right after creating the topic never becomes ready.
   */
  private static void awaitLeaders(Admin admin, String topic, int partitions, Duration timeout)
      throws InterruptedException {
    var request = new HashMap<TopicPartition, OffsetSpec>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        admin.listOffsets(request).all().get(left, TimeUnit.MILLISECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw new KafkaDeltaLogException(
              "The partitions of topic '"
                  + topic
                  + "' have no leader that serves them: "
                  + e.getCause().getMessage(),
              e.getCause());
        }
        Thread.sleep(50);
      } catch (TimeoutException e) {
        throw new KafkaDeltaLogException(
            "The partitions of topic '"
                + topic
                + "' have no leader that serves them after "
                + timeout,
            e);
      }
    }
  }

  private static TopicDescription describe(Admin admin, String topic, Duration timeout)
      throws InterruptedException {
    try {
      return get(admin.describeTopics(List.of(topic)).allTopicNames(), timeout, topic, "describe")
          .get(topic);
    } catch (KafkaDeltaLogException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return null;
      }
      throw e;
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
