package dev.handoff.bench;

import dev.handoff.StateHandoff;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.kafka.KafkaDeltaLogBuilder;
import dev.handoff.spi.StateCodec;
import dev.handoff.testkit.EmbeddedEnvironment;
import dev.handoff.zk.ZkMembership;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** What every scenario shares: the environment, the options, the report, and how to build nodes. */
final class Bench {
  /** States are the bytes themselves. */
  static final StateCodec<byte[]> BYTES =
      new StateCodec<>() {
        @Override
        public byte[] encode(byte[] state) {
          return state;
        }

        @Override
        public byte[] decode(byte[] bytes) {
          return bytes;
        }
      };

  /** KafkaDeltaLog's replay setting, given to every baseline consumer too (fair fetch sizes). */
  static final int MAX_POLL_RECORDS = 5000;

  final EmbeddedEnvironment env;
  final BenchOptions options;
  final Report report;
  final Path tmp;
  private final byte[] template;

  Bench(EmbeddedEnvironment env, BenchOptions options, Report report, Path tmp) {
    this.env = env;
    this.options = options;
    this.report = report;
    this.tmp = tmp;
    this.template = new byte[options.valueBytes()];
    new Random(42).nextBytes(template);
  }

  String bootstrap() {
    return env.bootstrapServers();
  }

  /** A fresh state of the configured size whose first 8 bytes carry {@code stamp}. */
  byte[] value(long stamp) {
    byte[] v = template.clone();
    if (v.length >= 8) {
      ByteBuffer.wrap(v).putLong(0, stamp);
    }
    return v;
  }

  static long stampOf(byte[] v) {
    return v.length >= 8 ? ByteBuffer.wrap(v).getLong(0) : -1;
  }

  /** A Handoff node as an application would build it: KafkaDeltaLog + ZkMembership. */
  StateHandoff<byte[]> node(
      String topic, String memberId, ClientProfile profile, KafkaDeltaLog.Listener listener) {
    return node(topic, memberId, "unknown", profile, listener);
  }

  /** A node that announces application version {@code version} (drains prefer the newest). */
  StateHandoff<byte[]> node(
      String topic,
      String memberId,
      String version,
      ClientProfile profile,
      KafkaDeltaLog.Listener listener) {
    return node(topic, memberId, version, profile, listener, Map.of());
  }

  /** A node whose log gets {@code clientProperties} on top of the profile's. */
  StateHandoff<byte[]> node(
      String topic,
      String memberId,
      String version,
      ClientProfile profile,
      KafkaDeltaLog.Listener listener,
      Map<String, Object> clientProperties) {
    var log = deltaLog(topic, memberId, profile).listener(listener);
    clientProperties.forEach(log::clientProperty);
    var membership =
        ZkMembership.builder()
            .version(version)
            .connectString(env.zookeeperConnect())
            .root("/handoff-bench")
            .group(topic)
            .memberId(memberId)
            .host("127.0.0.1")
            .openAcl() // the library's session timeout (15 s): no bench-only setting
            .build();
    return StateHandoff.<byte[]>builder()
        .deltaLog(log.build())
        .membership(membership)
        .codec(BYTES)
        .name(memberId)
        .operationTimeout(Duration.ofSeconds(120))
        .build();
  }

  /** A KafkaDeltaLog builder with the library's defaults, the profile's consumer settings. */
  KafkaDeltaLogBuilder deltaLog(String topic, String clientName, ClientProfile profile) {
    var log =
        KafkaDeltaLog.builder()
            .bootstrapServers(bootstrap())
            .topic(topic)
            .partitions(options.partitions())
            .replicationFactor(1)
            .clientProperty("client.id", "bench-" + clientName);
    profile.consumerProperties().forEach(log::clientProperty);
    return log;
  }

  StateHandoff<byte[]> node(String topic, String memberId, ClientProfile profile) {
    return node(topic, memberId, profile, new KafkaDeltaLog.Listener() {});
  }

  /** The consumer settings of a baseline: the same as KafkaDeltaLog's reader. */
  Map<String, Object> consumerConfig(ClientProfile profile, String clientId) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.putAll(profile.consumerProperties());
    return c;
  }

  /** Creates a compacted topic like KafkaDeltaLog's, for a baseline that writes its own. */
  void createTopic(String topic) {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, options.partitions(), (short) 1)
                      .configs(Map.of("cleanup.policy", "compact", "segment.ms", "3600000"))))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  /** Used heap after full GCs (the smallest of a few readings). */
  static long usedHeapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 2; i++) {
      System.gc();
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  /**
   * Used heap once it has settled: full GCs until two readings in a row are within 2 MiB (other
   * threads of this JVM, such as the broker, still allocate a little), the smallest reading of at
   * most five.
   */
  static long settledHeap() {
    long last = usedHeapAfterGc();
    for (int i = 0; i < 4; i++) {
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
      long now = usedHeapAfterGc();
      boolean stable = Math.abs(now - last) < (2 << 20);
      last = Math.min(last, now);
      if (stable) {
        break;
      }
    }
    return last;
  }

  /** True if the referent became unreachable (full GCs meanwhile) within {@code atMost}. */
  static boolean collectedWithin(java.lang.ref.Reference<?> ref, Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (System.nanoTime() < deadline) {
      System.gc();
      if (ref.get() == null) {
        return true;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
    }
    return false;
  }

  static String key(String prefix, int i) {
    return String.format("%s-%07d", prefix, i);
  }

  static void closeQuietly(StateHandoff<?> node) {
    if (node == null) {
      return;
    }
    try {
      node.leave().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      // closing anyway
    }
    node.close();
  }
}
