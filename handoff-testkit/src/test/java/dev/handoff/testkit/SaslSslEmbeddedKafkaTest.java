package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A SASL_SSL broker: SCRAM users, ACLs, and what clients without them get. */
class SaslSslEmbeddedKafkaTest {
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() throws Exception {
    kafka =
        StartTimes.timed(
            "Kafka SASL_SSL broker", () -> EmbeddedKafka.builder().saslSsl(true).start());
    try (Admin admin = Admin.create(kafka.adminProperties())) {
      admin
          .createTopics(List.of(new NewTopic("secured", 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void aUserWithTopicAclsWritesAndReadsButAnotherUserIsRefused() throws Exception {
    kafka.createUser("writer", "writer-secret");
    kafka.createUser("stranger", "stranger-secret");
    kafka.allow(
        "writer",
        ResourceType.TOPIC,
        "secured",
        PatternType.LITERAL,
        AclOperation.WRITE,
        AclOperation.READ,
        AclOperation.DESCRIBE);

    try (var producer = producer(kafka.clientProperties("writer", "writer-secret"))) {
      assertThat(
              producer
                  .send(new ProducerRecord<>("secured", "k", "v"))
                  .get(30, TimeUnit.SECONDS)
                  .offset())
          .isNotNegative();
    }
    assertThat(readFirst(kafka.clientProperties("writer", "writer-secret"))).isEqualTo("v");

    try (var producer = producer(kafka.clientProperties("stranger", "stranger-secret"))) {
      assertThatThrownBy(
              () ->
                  producer
                      .send(new ProducerRecord<>("secured", "k", "intruder"))
                      .get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TopicAuthorizationException.class);
    }
    assertThatThrownBy(() -> readFirst(kafka.clientProperties("stranger", "stranger-secret")))
        .isInstanceOf(TopicAuthorizationException.class);
  }

  @Test
  void aWrongPasswordIsRefusedByTheBroker() {
    var props = kafka.adminProperties();
    props.putAll(kafka.clientProperties(EmbeddedKafka.ADMIN_USER, "not-the-password"));
    try (Admin admin = Admin.create(props)) {
      assertThatThrownBy(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(SaslAuthenticationException.class)
          .hasMessageContaining("invalid credentials");
    }
  }

  @Test
  void aPlaintextClientGetsNoAnswer() {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", kafka.bootstrapServers());
    props.put("request.timeout.ms", 1000);
    props.put("default.api.timeout.ms", 1500);
    try (Admin admin = Admin.create(props)) {
      assertThatThrownBy(() -> admin.listTopics().names().get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
    }
  }

  private static KafkaProducer<String, String> producer(Map<String, Object> security) {
    Map<String, Object> p = new HashMap<>(security);
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("acks", "all");
    p.put("max.block.ms", 10_000);
    p.put("delivery.timeout.ms", 20_000);
    p.put("request.timeout.ms", 10_000);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private static String readFirst(Map<String, Object> security) {
    Map<String, Object> c = new HashMap<>(security);
    c.put("bootstrap.servers", kafka.bootstrapServers());
    c.put("enable.auto.commit", false);
    try (var consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      var tp = new TopicPartition("secured", 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          return r.value();
        }
      }
      throw new AssertionError("nothing read from 'secured' within 30 s");
    }
  }
}
