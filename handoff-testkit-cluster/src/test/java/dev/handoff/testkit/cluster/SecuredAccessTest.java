package dev.handoff.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.handoff.StateHandoff;
import dev.handoff.examples.SecuredQuickstart;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.StateCodec;
import dev.handoff.testkit.EmbeddedEnvironment;
import dev.handoff.testkit.EmbeddedZooKeeper;
import dev.handoff.testkit.TestCertificate;
import dev.handoff.zk.ZkMembership;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.management.AttributeNotFoundException;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Who may do what on secured servers: Kafka principals without, or with read-only, ACLs on the
 * handoff topic; another ZooKeeper identity against a member's znodes (default ACL and {@code
 * openAcl()}); wrong credentials for either server. Every refusal must fail {@code start()} within
 * its timeout, once, with a message that says which server refused and why.
 */
class SecuredAccessTest {
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(SecuredAccessTest.class);
  private static final String INTRUDER = "intruder";
  private static final String INTRUDER_PASSWORD = "intruder-secret";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
  private static final String GAME_SERVERS = "game-servers";
  private static final String GAME_SERVERS_ZK_PASSWORD = "game-servers-zk-secret";

  private static EmbeddedEnvironment env;

  @BeforeAll
  static void startSecuredServers() {
    env =
        EmbeddedEnvironment.builder()
            .kafkaSaslSsl(true)
            .zookeeperTlsSasl(true)
            .zookeeperSaslUser(INTRUDER, INTRUDER_PASSWORD)
            .zookeeperSaslUser(GAME_SERVERS, GAME_SERVERS_ZK_PASSWORD)
            .start();
  }

  @AfterAll
  static void stopSecuredServers() {
    env.close();
  }

  // ---------------------------------------------------------------- the README's secured setup

  @Test
  void theSecuredQuickstartHandsASessionOverWithOnlyTheDocumentedAcls() {
    env.kafka().createUser(GAME_SERVERS, "game-servers-kafka-secret");
    env.kafka()
        .allow(
            GAME_SERVERS,
            ResourceType.TOPIC,
            "game-sessions",
            PatternType.LITERAL,
            AclOperation.READ,
            AclOperation.WRITE,
            AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.CREATE);
    String jaasSection =
        env.zooKeeper()
            .clientProperties(GAME_SERVERS, GAME_SERVERS_ZK_PASSWORD)
            .get("zookeeper.sasl.clientconfig");
    var cert = TestCertificate.get();
    var pod0 =
        new SecuredQuickstart(
            env.bootstrapServers(),
            GAME_SERVERS,
            "game-servers-kafka-secret",
            env.zookeeperConnect(),
            jaasSection,
            cert.trustStore(),
            cert.password(),
            "game-0");
    try {
      pod0.handoff().stash("game-42", "tick=1234").join();
      pod0.handoff().leave().join();
    } finally {
      pod0.handoff().close();
    }
    var pod1 =
        new SecuredQuickstart(
            env.bootstrapServers(),
            GAME_SERVERS,
            "game-servers-kafka-secret",
            env.zookeeperConnect(),
            jaasSection,
            cert.trustStore(),
            cert.password(),
            "game-1");
    try {
      assertThat(pod1.handoff().pickup("game-42").join()).contains("tick=1234");
    } finally {
      pod1.handoff().close();
    }
  }

  // ---------------------------------------------------------------- Kafka ACLs

  @Test
  void aPrincipalWithoutAclsCanNeitherReadNorWriteTheTopicAndItsNodeFailsStart() throws Exception {
    String topic = "acl-none";
    var owner = node(topic, "owner", env.kafkaClientProperties(), env.zooKeeper().clientConfig());
    try {
      owner.start().get(60, TimeUnit.SECONDS);
      owner.stash("game-1", "tick=1").get(30, TimeUnit.SECONDS);
    } finally {
      owner.close();
    }
    env.kafka().createUser("stranger", "stranger-secret");
    var stranger = env.kafka().clientProperties("stranger", "stranger-secret");

    try (var producer = producer(stranger)) {
      assertThatThrownBy(
              () ->
                  producer
                      .send(new ProducerRecord<>(topic, "game-1", "forged"))
                      .get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TopicAuthorizationException.class);
    }
    try (var consumer = consumer(stranger)) {
      var tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(10)))
          .isInstanceOf(TopicAuthorizationException.class);
    }

    String message =
        startFailure(node(topic, "stranger", stranger, env.zooKeeper().clientConfig()));
    assertThat(message).contains(topic).contains("DESCRIBE");
  }

  @Test
  void aReadOnlyPrincipalsNodeFailsStartNamingTheMissingWriteAcl() throws Exception {
    String topic = "acl-read-only";
    var owner = node(topic, "owner", env.kafkaClientProperties(), env.zooKeeper().clientConfig());
    try {
      owner.start().get(60, TimeUnit.SECONDS);
    } finally {
      owner.close();
    }
    env.kafka().createUser("reader", "reader-secret");
    env.kafka()
        .allow(
            "reader",
            ResourceType.TOPIC,
            topic,
            PatternType.LITERAL,
            AclOperation.READ,
            AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS);

    String message =
        startFailure(
            node(
                topic,
                "reader",
                env.kafka().clientProperties("reader", "reader-secret"),
                env.zooKeeper().clientConfig()));
    assertThat(message).contains(topic).contains("WRITE");
  }

  @Test
  void aPrincipalWithoutCreateFailsStartNamingItWhenTheTopicIsMissing() throws Exception {
    String topic = "acl-no-create";
    env.kafka().createUser("no-create", "no-create-secret");
    env.kafka()
        .allow(
            "no-create",
            ResourceType.TOPIC,
            topic,
            PatternType.LITERAL,
            AclOperation.READ,
            AclOperation.WRITE,
            AclOperation.DESCRIBE,
            AclOperation.DESCRIBE_CONFIGS);

    String message =
        startFailure(
            node(
                topic,
                "no-create",
                env.kafka().clientProperties("no-create", "no-create-secret"),
                env.zooKeeper().clientConfig()));
    assertThat(message).contains(topic).contains("CREATE");
  }

  @Test
  void aWrongKafkaPasswordFailsStartOnceSayingTheBrokersRefusedIt() throws Exception {
    double before = failedKafkaAuthentications();
    var node =
        node(
            "wrong-password",
            "wrong-password",
            env.kafka().clientProperties(EmbeddedEnvironment.APPLICATION_USER, "not-it"),
            env.zooKeeper().clientConfig());
    try {
      long t0 = System.nanoTime();
      String message = startFailureLeavingItOpen(node);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).as("ms until start failed").isLessThan(START_TIMEOUT.toMillis());
      assertThat(message)
          .contains(env.bootstrapServers())
          .containsIgnoringCase("authentication failed")
          .contains("invalid credentials");
      double after = failedKafkaAuthentications();
      // For 2 s (what a retrying client would spend retrying) the broker sees no further attempt.
      await("no failed authentication at the broker after start failed")
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> failedKafkaAuthentications() == after);
      assertThat(after).isGreaterThan(before);
    } finally {
      node.close();
    }
  }

  // ---------------------------------------------------------------- ZooKeeper ACLs

  @Test
  void anotherZooKeeperIdentityCannotDeleteRewriteOrAddToAMembersZnodes() throws Exception {
    var member = membership("acl-default", "member-1", env.zooKeeper().clientConfig(), false);
    try (var intruder = connect(env.zooKeeper().clientConfig(INTRUDER, INTRUDER_PASSWORD))) {
      member.start().get(30, TimeUnit.SECONDS);
      String members = "/handoff/acl-default/members";
      String znode = members + "/" + intruder.getChildren(members, false).get(0);

      assertThatThrownBy(() -> intruder.setData(znode, "forged".getBytes(), -1))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(() -> intruder.delete(znode, -1))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(
              () ->
                  intruder.create(
                      members + "/fake@member",
                      new byte[0],
                      ZooDefs.Ids.OPEN_ACL_UNSAFE,
                      CreateMode.EPHEMERAL))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThatThrownBy(() -> intruder.setData(members, new byte[0], -1))
          .isInstanceOf(KeeperException.NoAuthException.class);
      assertThat(intruder.getData(znode, false, null)).as("world-read").isNotEmpty();
      assertThat(member.writable()).isTrue();
    } finally {
      member.close();
    }
  }

  @Test
  void aMemberOfAnotherIdentityCannotJoinUnderZnodesItDoesNotOwn() throws Exception {
    var owner = membership("acl-owned", "member-1", env.zooKeeper().clientConfig(), false);
    var stranger =
        membership(
            "acl-owned",
            "member-2",
            env.zooKeeper().clientConfig(INTRUDER, INTRUDER_PASSWORD),
            false);
    try {
      owner.start().get(30, TimeUnit.SECONDS);
      assertThat(stranger.start())
          .failsWithin(START_TIMEOUT)
          .withThrowableThat()
          .havingRootCause()
          .withMessageContaining("ZooKeeper at " + env.zookeeperConnect())
          .withMessageContaining("refused to register member 'member-2'")
          .withMessageContaining("NOAUTH");
    } finally {
      stranger.close();
      owner.close();
    }
  }

  @Test
  void withOpenAclAnotherIdentityCanAndStartSaysSo() throws Exception {
    var warnings = capture("dev.handoff.zk", Level.WARN);
    var member = membership("acl-open", "member-1", env.zooKeeper().clientConfig(), true);
    try (var intruder = connect(env.zooKeeper().clientConfig(INTRUDER, INTRUDER_PASSWORD))) {
      member.start().get(30, TimeUnit.SECONDS);
      String members = "/handoff/acl-open/members";
      String znode = members + "/" + intruder.getChildren(members, false).get(0);

      intruder.setData(znode, "forged".getBytes(), -1);
      intruder.create(
          members + "/fake@member", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
      intruder.delete(znode, -1);

      List<String> said = messages(warnings);
      LOG.info("openAcl() warnings: {}", said);
      assertThat(said).anySatisfy(m -> assertThat(m).contains("member-1").contains("world:anyone"));
    } finally {
      member.close();
      detach("dev.handoff.zk", warnings);
    }
  }

  @Test
  void aWrongZooKeeperPasswordFailsStartOnceSayingZooKeeperRefusedIt() throws Exception {
    var refusals = capture("org.apache.zookeeper.server.ZooKeeperServer", Level.WARN);
    var node =
        node(
            "zk-wrong-password",
            "zk-wrong-password",
            env.kafkaClientProperties(),
            env.zooKeeper().clientConfig(EmbeddedZooKeeper.DEFAULT_USER, "not-the-password"));
    try {
      long t0 = System.nanoTime();
      String message = startFailureLeavingItOpen(node);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(message)
          .doesNotContain("within startTimeout")
          .contains(env.zookeeperConnect())
          .contains("SASL");
      assertThat(ms).as("ms until start failed").isLessThan(START_TIMEOUT.toMillis());
      long failed = saslFailures(refusals);
      // For 2 s (what a retrying client would spend retrying) ZooKeeper refuses nothing more.
      await("no SASL refusal after start failed")
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> saslFailures(refusals) == failed);
    } finally {
      node.close();
      detach("org.apache.zookeeper.server.ZooKeeperServer", refusals);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static StateHandoff<String> node(
      String topic, String memberId, Map<String, Object> kafkaSecurity, ZKClientConfig zk) {
    return StateHandoff.<String>builder()
        .deltaLog(
            KafkaDeltaLog.builder()
                .bootstrapServers(env.bootstrapServers())
                .topic(topic)
                .partitions(2)
                .replicationFactor(1)
                .requestTimeout(Duration.ofSeconds(10))
                .clientProperties(kafkaSecurity)
                .build())
        .membership(membership(topic, memberId, zk, false))
        .codec(StateCodec.utf8())
        .build();
  }

  private static ZkMembership membership(
      String group, String memberId, ZKClientConfig zk, boolean openAcl) {
    var b =
        ZkMembership.builder()
            .connectString(env.zookeeperConnect())
            .group(group)
            .memberId(memberId)
            .sessionTimeout(Duration.ofSeconds(6))
            .connectionTimeout(Duration.ofSeconds(3))
            .startTimeout(START_TIMEOUT)
            .zkClientConfig(zk);
    if (openAcl) {
      b.openAcl();
    }
    return b.build();
  }

  /** Starts the node, expects start to fail, closes it; the failure's messages, cause by cause. */
  private static String startFailure(StateHandoff<String> node) {
    try {
      return startFailureLeavingItOpen(node);
    } finally {
      node.close();
    }
  }

  /**
   * As {@link #startFailure}, but the node is not closed: what it does after a failed start (keep
   * retrying, or stop) is up to the library.
   */
  private static String startFailureLeavingItOpen(StateHandoff<String> node) {
    try {
      node.start().orTimeout(60, TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      var sb = new StringBuilder();
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
      }
      LOG.info("start failed with:\n{}", sb);
      return sb.toString();
    }
    throw new AssertionError("start should have failed");
  }

  private static ZooKeeper connect(ZKClientConfig config) throws Exception {
    var authenticated = new CompletableFuture<Void>();
    var client =
        new ZooKeeper(
            env.zookeeperConnect(),
            10_000,
            e -> {
              if (e.getState() == KeeperState.SaslAuthenticated) {
                authenticated.complete(null);
              }
            },
            config);
    authenticated.get(30, TimeUnit.SECONDS);
    return client;
  }

  private static KafkaProducer<String, String> producer(Map<String, Object> security) {
    Map<String, Object> p = new HashMap<>(security);
    p.put("bootstrap.servers", env.bootstrapServers());
    p.put("max.block.ms", 10_000);
    p.put("delivery.timeout.ms", 20_000);
    p.put("request.timeout.ms", 10_000);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private static KafkaConsumer<String, String> consumer(Map<String, Object> security) {
    Map<String, Object> c = new HashMap<>(security);
    c.put("bootstrap.servers", env.bootstrapServers());
    c.put("enable.auto.commit", false);
    return new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
  }

  /** The brokers' count of failed authentications on the SASL_SSL listener (JMX, this JVM). */
  private static double failedKafkaAuthentications() throws Exception {
    var server = ManagementFactory.getPlatformMBeanServer();
    double total = 0;
    for (ObjectName name :
        server.queryNames(
            new ObjectName("kafka.server:type=socket-server-metrics,listener=SASL_SSL,*"), null)) {
      try {
        total += ((Number) server.getAttribute(name, "failed-authentication-total")).doubleValue();
      } catch (AttributeNotFoundException e) {
        // another metric group of the listener (client software versions)
      }
    }
    return total;
  }

  private static long saslFailures(ListAppender<ILoggingEvent> refusals) {
    return messages(refusals).stream()
        .filter(m -> m.contains("failed to SASL authenticate"))
        .count();
  }

  /** What the appender caught so far (it appends under its own lock). */
  private static List<String> messages(ListAppender<ILoggingEvent> appender) {
    synchronized (appender) {
      return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  private static ListAppender<ILoggingEvent> capture(String loggerName, Level level) {
    var logger = (Logger) LoggerFactory.getLogger(loggerName);
    var appender = new ListAppender<ILoggingEvent>();
    appender.start();
    logger.addAppender(appender);
    if (logger.getLevel() == null || !logger.isEnabledFor(level)) {
      logger.setLevel(level);
    }
    return appender;
  }

  private static void detach(String loggerName, ListAppender<ILoggingEvent> appender) {
    ((Logger) LoggerFactory.getLogger(loggerName)).detachAppender(appender);
  }
}
