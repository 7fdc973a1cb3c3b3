package dev.handoff.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a JUnit 5 test class a running {@link HandoffEnvironment}: started once before the class's
 * first test, closed after its last one (data removed).
 *
 * <p>Test methods, lifecycle methods and constructors may declare parameters of type {@link
 * HandoffEnvironment}, {@link EmbeddedEnvironment}, {@link EmbeddedKafka} or {@link
 * EmbeddedZooKeeper}; all resolve to the class's one environment. {@code @Nested} classes share
 * their enclosing class's environment.
 *
 * <pre>{@code
 * @HandoffTest(kafkaBrokers = 1, zookeeperServers = 1, fastCompaction = true)
 * class PickupTest {
 *   @Test
 *   void survivesRestart(HandoffEnvironment env) { ... env.restartKafkaBroker(0); ... }
 * }
 *
 * @HandoffTest(kafkaSaslSsl = true, zookeeperTlsSasl = true)
 * class SecuredPickupTest {
 *   @Test
 *   void works(HandoffEnvironment env) {
 *     KafkaDeltaLog.builder().bootstrapServers(env.bootstrapServers())
 *         .clientProperties(env.kafkaClientProperties())...;
 *     var zk = new ZKClientConfig();
 *     env.zookeeperClientProperties().forEach(zk::setProperty); // then zkClientConfig(zk)
 *   }
 * }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(HandoffExtension.class)
public @interface HandoffTest {
  /** Kafka brokers, 0 (none) to 9. */
  int kafkaBrokers() default 1;

  /** ZooKeeper servers, 0 (none) or more. */
  int zookeeperServers() default 1;

  /** See {@link EmbeddedKafka.Builder#fastCompaction(boolean)}. */
  boolean fastCompaction() default false;

  /** Extra broker properties, each {@code "key=value"}. */
  String[] brokerProperties() default {};

  /**
   * Kafka with SASL_SSL (SCRAM-SHA-512), TLS and ACLs; see {@link
   * EmbeddedEnvironment.Builder#kafkaSaslSsl(boolean)}. Nodes get their settings from {@link
   * HandoffEnvironment#kafkaClientProperties()}.
   */
  boolean kafkaSaslSsl() default false;

  /**
   * ZooKeeper with a TLS client port and required SASL; see {@link
   * EmbeddedZooKeeper.Builder#tlsSasl(boolean)}. Nodes get their settings from {@link
   * HandoffEnvironment#zookeeperClientProperties()}.
   */
  boolean zookeeperTlsSasl() default false;
}
