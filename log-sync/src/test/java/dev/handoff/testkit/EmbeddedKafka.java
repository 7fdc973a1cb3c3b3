package dev.handoff.testkit;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/** TEMPORARY scratch stand-in for the testkit's EmbeddedKafka (single broker); deleted on merge. */
public final class EmbeddedKafka implements AutoCloseable {
  private final Properties props = new Properties();
  private final int port;
  private KafkaRaftServer server;

  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    private final Map<String, String> extra = new HashMap<>();
    private boolean fast;

    public Builder brokers(int n) {
      return this;
    }

    public Builder fastCompaction(boolean f) {
      fast = f;
      return this;
    }

    public Builder brokerProperty(String k, String v) {
      extra.put(k, v);
      return this;
    }

    public EmbeddedKafka start() throws Exception {
      return new EmbeddedKafka(extra, fast);
    }
  }

  private EmbeddedKafka(Map<String, String> extra, boolean fast) throws Exception {
    port = freePort();
    int cport = freePort();
    Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "kafka");
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@127.0.0.1:" + cport);
    props.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + cport);
    props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "1");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "1");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("log.cleaner.dedupe.buffer.size", "2097152");
    props.put("log.cleaner.backoff.ms", "200");
    props.put("log.dirs", dir.toString());
    props.putAll(extra);
    Path cfg = dir.resolve("server.properties");
    try (var out = Files.newOutputStream(cfg)) {
      props.store(out, null);
    }
    kafka.tools.StorageTool.execute(
        new String[] {
          "format", "-t", Uuid.randomUuid().toString(), "-c", cfg.toString(), "--ignore-formatted"
        },
        new PrintStream(OutputStream.nullOutputStream()));
    startBroker(0);
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public int brokers() {
    return 1;
  }

  public void stopBroker(int i) {
    server.shutdown();
    server.awaitShutdown();
    server = null;
  }

  public void startBroker(int i) {
    server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
    server.startup();
  }

  public void restartBroker(int i) {
    stopBroker(i);
    startBroker(i);
  }

  public Map<String, Object> adminProperties() {
    return Map.of("bootstrap.servers", bootstrapServers());
  }

  public static Map<String, String> fastCompactionTopicConfig() {
    return Map.of(
        "segment.ms", "100",
        "min.cleanable.dirty.ratio", "0.01",
        "delete.retention.ms", "100",
        "min.compaction.lag.ms", "0");
  }

  @Override
  public void close() {
    if (server != null) {
      stopBroker(0);
    }
  }

  private static int freePort() throws Exception {
    try (var s = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
