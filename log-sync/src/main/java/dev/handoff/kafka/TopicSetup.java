package dev.handoff.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the log's topic if it is missing, or checks an existing one; and checks that this
 * client's principal holds the ACLs the log needs on it, so a missing one fails start naming it
 * instead of failing the first write.
 */
final class TopicSetup {

  private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

  /** What a node does on its topic: replay (READ), append (WRITE), look up offsets and configs. */
  static final List<AclOperation> REQUIRED_OPERATIONS =
      List.of(
          AclOperation.READ,
          AclOperation.WRITE,
          AclOperation.DESCRIBE,
          AclOperation.DESCRIBE_CONFIGS);

  /**
   * What the log needs to know about its topic, and the risky settings it was started with
   * (accepted ones and judgements; each was logged once at WARN).
   */
  record Layout(int partitions, int maxMessageBytes, List<String> warnings) {}

  private TopicSetup() {}

  static Layout ensure(Admin admin, LogSettings s) throws InterruptedException {
    String topic = s.topic();
    long deadline = System.nanoTime() + s.requestTimeout().toNanos();
    TopicDescription description = describe(admin, s);
    if (description == null) {
      // Refuse a topic with risky settings before creating it, not after.
      enforce(
          TopicDurability.check(topic, s.replicationFactor(), planned(s), s.endedRetention()), s);
      var newTopic =
          new NewTopic(topic, s.partitions(), s.replicationFactor()).configs(s.topicConfigs());
      try {
        get(admin.createTopics(List.of(newTopic)).all(), s, "create", AclOperation.CREATE);
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
      while ((description = describe(admin, s)) == null) {
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

    checkAuthorizedOperations(description, s);

    var resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = null;
    while (config == null) {
      try {
        config =
            get(
                    admin.describeConfigs(List.of(resource)).all(),
                    s,
                    "describe the configuration of",
                    AclOperation.DESCRIBE_CONFIGS)
                .get(resource);
      } catch (KafkaDeltaLogException e) {
        // A new topic: the broker asked may not have its metadata yet (seen with three brokers).
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
    var actual = new HashMap<String, TopicDurability.Setting>();
    for (ConfigEntry e : config.entries()) {
      if (e.value() != null) {
        actual.put(
            e.name(),
            new TopicDurability.Setting(
                e.value(), e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG));
      }
    }
    List<String> warnings =
        enforce(
            TopicDurability.check(
                topic, replicationFactor(description), actual, s.endedRetention()),
            s);
    ConfigEntry maxBytes = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    int maxMessageBytes =
        maxBytes == null || maxBytes.value() == null
            ? 1048588
            : Integer.parseInt(maxBytes.value().trim());
    awaitLeaders(admin, topic, description.partitions().size(), s.requestTimeout());
    return new Layout(description.partitions().size(), maxMessageBytes, List.copyOf(warnings));
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

  /**
   * Fails start on the refused findings the builder did not accept (all of them in one message);
   * logs the others once and returns them.
   */
  private static List<String> enforce(List<TopicDurability.Finding> findings, LogSettings s) {
    boolean refused = false;
    var warnings = new ArrayList<String>();
    for (var f : findings) {
      if (!f.refused()) {
        warnings.add(f.problem());
      } else if (s.acceptedRisks().contains(f.setting())) {
        warnings.add(f.problem() + " Accepted by acceptDataLossRisk(\"" + f.setting() + "\").");
      } else {
        refused = true;
      }
    }
    if (refused) {
      throw new KafkaDeltaLogException(
          refusal(
              findings.stream()
                  .filter(f -> f.refused() && !s.acceptedRisks().contains(f.setting()))
                  .toList()));
    }
    warnings.forEach(w -> LOG.warn("{}", w));
    return warnings;
  }

  /**
   * The message start fails with for these refused findings (all of them, then how to accept each
   * risk by name); {@link TopicCheck} reports the same text.
   */
  static String refusal(List<TopicDurability.Finding> refused) {
    var accept =
        refused.stream()
            .map(f -> "acceptDataLossRisk(\"" + f.setting() + "\")")
            .distinct()
            .toList();
    return String.join(" ", refused.stream().map(TopicDurability.Finding::problem).toList())
        + " To run on this topic anyway, accept the risk by name on the log's builder: "
        + String.join(", ", accept)
        + ".";
  }

  /** The settings a topic about to be created will have, as far as the log sets them. */
  private static Map<String, TopicDurability.Setting> planned(LogSettings s) {
    var out = new HashMap<String, TopicDurability.Setting>();
    s.topicConfigs().forEach((k, v) -> out.put(k, new TopicDurability.Setting(v, true)));
    return out;
  }

  /** The smallest replica count over the partitions (a partition being reassigned may differ). */
  private static int replicationFactor(TopicDescription description) {
    return description.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
  }

  /**
   * Fails if the topic's description says this principal lacks an operation the log needs. The
   * brokers report the operations only when asked; without an authorizer they report all.
   */
  private static void checkAuthorizedOperations(TopicDescription description, LogSettings s) {
    Set<AclOperation> granted = description.authorizedOperations();
    if (granted == null || granted.contains(AclOperation.ALL)) {
      return;
    }
    var missing = new ArrayList<AclOperation>();
    for (AclOperation op : REQUIRED_OPERATIONS) {
      if (!granted.contains(op)) {
        missing.add(op);
      }
    }
    if (!missing.isEmpty()) {
      throw new KafkaDeltaLogException(
          "The Kafka principal of this node lacks the ACL operation(s) "
              + missing
              + " on topic '"
              + s.topic()
              + "' at "
              + s.bootstrapServers()
              + " (it has "
              + new TreeSet<>(granted)
              + "). A Handoff node needs "
              + REQUIRED_OPERATIONS
              + " on its topic (and CREATE to create it): add the missing ALLOW ACLs for this"
              + " principal.");
    }
  }

  private static TopicDescription describe(Admin admin, LogSettings s) throws InterruptedException {
    try {
      return get(
              admin
                  .describeTopics(
                      List.of(s.topic()),
                      new DescribeTopicsOptions().includeAuthorizedOperations(true))
                  .allTopicNames(),
              s,
              "describe",
              AclOperation.DESCRIBE)
          .get(s.topic());
    } catch (KafkaDeltaLogException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Waits for an admin call. Refused credentials and missing ACLs get messages that say which
   * servers refused and what to change; {@code operation} is the ACL operation the call needs.
   */
  private static <T> T get(KafkaFuture<T> f, LogSettings s, String what, AclOperation operation)
      throws InterruptedException {
    String topic = s.topic();
    Duration timeout = s.requestTimeout();
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof AuthenticationException) {
        throw new KafkaDeltaLogException(
            "Kafka at "
                + s.bootstrapServers()
                + " refused to authenticate this node ("
                + cause.getMessage()
                + "); check its security.protocol, sasl.mechanism, sasl.jaas.config and ssl.*"
                + " client properties. Nothing was retried: the same credentials would be refused"
                + " again.",
            cause);
      }
      if (cause instanceof TopicAuthorizationException
          || cause instanceof ClusterAuthorizationException) {
        throw new KafkaDeltaLogException(
            "Kafka at "
                + s.bootstrapServers()
                + " did not authorize this node to "
                + what
                + " topic '"
                + topic
                + "' ("
                + cause.getMessage()
                + "): its principal needs the ACL operation "
                + operation
                + " on the topic. A Handoff node needs "
                + REQUIRED_OPERATIONS
                + " on its topic, and CREATE to create it.",
            cause);
      }
      throw new KafkaDeltaLogException(
          "Could not " + what + " topic '" + topic + "': " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new KafkaDeltaLogException(
          "Could not "
              + what
              + " topic '"
              + topic
              + "' within "
              + timeout
              + " (is the cluster at "
              + s.bootstrapServers()
              + " reachable? check bootstrap.servers and security settings)",
          e);
    }
  }
}
