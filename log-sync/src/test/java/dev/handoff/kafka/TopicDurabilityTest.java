package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.handoff.testkit.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings of an existing topic that can lose acknowledged stashes or weaken fencing, on three
 * real brokers: each is refused at start with the setting and its safe value, runs when the builder
 * accepts it by name, and judgements only warn ({@link KafkaDeltaLog#topicWarnings()}).
 */
class TopicDurabilityTest {
  private static final Logger LOG = LoggerFactory.getLogger(TopicDurabilityTest.class);
  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static EmbeddedKafka kafka;

  private final List<KafkaDeltaLog> logs = new ArrayList<>();

  @BeforeAll
  static void startBrokers() {
    kafka = EmbeddedKafka.builder().brokers(3).start();
  }

  @AfterAll
  static void stopBrokers() {
    kafka.close();
  }

  @AfterEach
  void closeLogs() {
    logs.forEach(KafkaDeltaLog::close);
  }

  @Test
  void minInSyncReplicasOneAtReplicationFactorThreeIsRefusedUnlessAccepted() throws Exception {
    String topic = topic(3, Map.of("min.insync.replicas", "1"));
    assertThat(startFailure(logOn(topic)))
        .contains("Topic '" + topic + "'")
        .contains("min.insync.replicas=1 with replication factor 3")
        .contains("Set min.insync.replicas=2")
        .contains("acceptDataLossRisk(\"min.insync.replicas\")");

    var accepted = start(logOn(topic).acceptDataLossRisk("min.insync.replicas"));
    assertThat(accepted.topicWarnings())
        .singleElement(STRING)
        .contains("min.insync.replicas=1")
        .contains("Accepted by acceptDataLossRisk");
  }

  @Test
  void minInSyncReplicasOneAtReplicationFactorTwoIsAJudgementThatOnlyWarns() throws Exception {
    String topic = topic(2, Map.of("min.insync.replicas", "1"));
    var log = start(logOn(topic));
    assertThat(log.topicWarnings())
        .singleElement(STRING)
        .contains("min.insync.replicas=1 with replication factor 2");
  }

  @Test
  void uncleanLeaderElectionIsRefused() throws Exception {
    String topic = topic(3, Map.of("unclean.leader.election.enable", "true"));
    assertThat(startFailure(logOn(topic)))
        .contains("unclean.leader.election.enable=true")
        .contains("Set unclean.leader.election.enable=false");
  }

  @Test
  void deleteRetentionShorterThanTheEndedRetentionIsRefused() throws Exception {
    String topic = topic(3, Map.of("delete.retention.ms", "60000"));
    assertThat(startFailure(logOn(topic)))
        .contains("delete.retention.ms=60000")
        .contains("endedRetention of PT1H")
        .contains("Set delete.retention.ms=3600000");
    assertThat(startFailure(logOn(topic).endedRetention(Duration.ofMinutes(10))))
        .contains("endedRetention of PT10M")
        .contains("Set delete.retention.ms=600000");

    var shorter = start(logOn(topic).endedRetention(Duration.ofSeconds(30)));
    assertThat(shorter.topicWarnings()).isEmpty();
  }

  @Test
  void aPolicyThatDeletesIsRefusedNamingTheRetentionThatWouldDeleteSessions() throws Exception {
    String topic = topic(3, Map.of("cleanup.policy", "compact,delete", "retention.ms", "86400000"));
    assertThat(startFailure(logOn(topic)))
        .contains("cleanup.policy=compact,delete")
        .contains("compact only")
        .contains("retention.ms=86400000 deletes sessions not written for PT24H");

    var accepted = start(logOn(topic).acceptDataLossRisk("cleanup.policy"));
    assertThat(accepted.topicWarnings())
        .anySatisfy(w -> assertThat(w).contains("cleanup.policy=compact,delete"));
  }

  @Test
  void aRecordLimitWithNoRoomForAStateIsRefused() throws Exception {
    String topic = topic(3, Map.of("max.message.bytes", "2000"));
    assertThat(startFailure(logOn(topic)))
        .contains("max.message.bytes=2000")
        .contains("Set max.message.bytes=5120");
  }

  @Test
  void retentionSetOnACompactTopicIsInertAndOnlyWarns() throws Exception {
    String topic = topic(3, Map.of("retention.ms", "1000", "retention.bytes", "1"));
    var log = start(logOn(topic));
    assertThat(log.topicWarnings())
        .hasSize(2)
        .anySatisfy(w -> assertThat(w).contains("retention.ms=1000").contains("inert"))
        .anySatisfy(w -> assertThat(w).contains("retention.bytes=1"));
  }

  @Test
  void everyRefusedSettingIsNamedInOneMessage() throws Exception {
    String topic =
        topic(
            3,
            Map.of(
                "min.insync.replicas", "1",
                "unclean.leader.election.enable", "true",
                "delete.retention.ms", "1000"));
    assertThat(startFailure(logOn(topic)))
        .contains("min.insync.replicas=1")
        .contains("unclean.leader.election.enable=true")
        .contains("delete.retention.ms=1000");
  }

  @Test
  void aTopicTheLogWouldCreateWithARiskySettingIsRefusedBeforeItExists() throws Exception {
    String topic = "durability-created-" + TOPICS.incrementAndGet();
    assertThat(startFailure(logOn(topic).topicConfig("unclean.leader.election.enable", "true")))
        .contains("unclean.leader.election.enable=true");
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain(topic);
    }
  }

  @Test
  void theDefaultsOfATopicTheLogCreatesPassEveryCheck() {
    String topic = "durability-default-" + TOPICS.incrementAndGet();
    var log = start(logOn(topic).replicationFactor(3));
    assertThat(log.topicWarnings()).isEmpty();
  }

  private static KafkaDeltaLogBuilder logOn(String topic) {
    return KafkaDeltaLog.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topic(topic)
        .partitions(1)
        .requestTimeout(Duration.ofSeconds(20));
  }

  /** A topic made by other tools: safe settings, except {@code overrides}. */
  private static String topic(int replicationFactor, Map<String, String> overrides)
      throws Exception {
    String topic = "durability-" + TOPICS.incrementAndGet();
    var configs = new HashMap<String, String>();
    configs.put("cleanup.policy", "compact");
    configs.put("min.insync.replicas", Integer.toString(Math.min(2, replicationFactor)));
    configs.putAll(overrides);
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      admin
          .createTopics(List.of(new NewTopic(topic, 1, (short) replicationFactor).configs(configs)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    return topic;
  }

  private KafkaDeltaLog start(KafkaDeltaLogBuilder builder) {
    var log = builder.build();
    logs.add(log);
    log.start(e -> {}).orTimeout(60, TimeUnit.SECONDS).join();
    return log;
  }

  /** The message start failed with (the log is closed after). */
  private String startFailure(KafkaDeltaLogBuilder builder) {
    var log = builder.build();
    logs.add(log);
    try {
      log.start(e -> {}).orTimeout(60, TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(KafkaDeltaLogException.class);
      LOG.info("start failed with: {}", e.getCause().getMessage());
      return e.getCause().getMessage();
    }
    throw new AssertionError("start should have failed");
  }
}
