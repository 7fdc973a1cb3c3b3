package dev.handoff.testkit.cluster;

import static org.awaitility.Awaitility.await;

import dev.handoff.testkit.EmbeddedEnvironment;
import dev.handoff.testkit.EmbeddedKafka;
import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.zk.ZkMembership;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A whole Handoff cluster for tests, reading like the original Elixir cluster tests: real Kafka and
 * ZooKeeper, then {@link #addNode()}, {@link #stopNode}, {@link #killNode}, {@link #waitUntil}.
 *
 * <pre>{@code
 * try (var cluster = HandoffCluster.builder().start()) {
 *   var a = cluster.addNode();
 *   a.stash("game-1", "tick=42").join();
 *   cluster.stopNode(a);                       // graceful leave
 *   var b = cluster.addNode();
 *   assertThat(b.pickup("game-1").join()).contains("tick=42");
 * }
 * }</pre>
 *
 * Nodes run in this JVM ({@link #addNode()}) or in their own ({@link #addProcessNode()}), where
 * {@link #killNode} is a real {@code kill -9}. States are strings. Not thread-safe: drive it from
 * the test thread.
 */
public final class HandoffCluster implements AutoCloseable {
  private static final AtomicInteger TOPICS = new AtomicInteger();

  private final HandoffEnvironment env;
  private final boolean ownsEnv;
  private final String topic;
  private final int partitions;
  private final int replicationFactor;
  private final Duration sessionTimeout;
  private final Duration endedRetention;
  private final Map<String, String> topicConfig;
  private final Path logDir;
  private final List<ClusterNode> nodes = new CopyOnWriteArrayList<>();
  private final AtomicInteger nodeIds = new AtomicInteger();

  private HandoffCluster(Builder b, HandoffEnvironment env, boolean ownsEnv) {
    this.env = env;
    this.ownsEnv = ownsEnv;
    this.topic = b.topic != null ? b.topic : "handoff-test-" + TOPICS.incrementAndGet();
    this.partitions = b.partitions;
    this.replicationFactor = Math.min(3, env.kafkaBrokers());
    this.sessionTimeout = b.sessionTimeout;
    this.endedRetention = b.endedRetention;
    this.topicConfig =
        b.fastCompaction ? EmbeddedKafka.fastCompactionTopicConfig() : Map.<String, String>of();
    this.logDir = Path.of(System.getProperty("java.io.tmpdir"), "handoff-cluster-logs");
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The environment (Kafka, ZooKeeper and their fault controls). */
  public HandoffEnvironment environment() {
    return env;
  }

  /** The topic this cluster's nodes share. */
  public String topic() {
    return topic;
  }

  /** Starts a node in this JVM with a fresh member id ({@code node-1}, {@code node-2}, ...). */
  public ClusterNode addNode() {
    return addNode("node-" + nodeIds.incrementAndGet());
  }

  /** Starts a node in this JVM; returns once it has replayed the log and is ready. */
  public ClusterNode addNode(String memberId) {
    var node = new InProcessNode(config(memberId));
    nodes.add(node);
    return node.start();
  }

  /** Starts a node in its own JVM with a fresh member id. */
  public ClusterNode addProcessNode() {
    return addProcessNode("node-" + nodeIds.incrementAndGet());
  }

  /** Starts a node in its own JVM; returns once it is ready. Its log goes under target/. */
  public ClusterNode addProcessNode(String memberId) {
    return addProcessNode(memberId, OnShutdown.LEAVE);
  }

  /**
   * Starts a node in its own JVM that does {@code onShutdown} on SIGTERM; returns once it is ready.
   */
  public ClusterNode addProcessNode(String memberId, OnShutdown onShutdown) {
    var node =
        new ProcessNode(
            config(memberId),
            logDir.resolve(memberId + "-" + System.nanoTime() + ".log"),
            onShutdown);
    nodes.add(node);
    return node.awaitReady();
  }

  /**
   * Starts one node per member id, each in its own JVM doing {@code onShutdown} on SIGTERM, all at
   * once; returns them, in order, once every one is ready.
   */
  public List<ClusterNode> addProcessNodes(OnShutdown onShutdown, String... memberIds) {
    var started = new ArrayList<ProcessNode>();
    for (String id : memberIds) {
      var node =
          new ProcessNode(
              config(id), logDir.resolve(id + "-" + System.nanoTime() + ".log"), onShutdown);
      nodes.add(node);
      started.add(node);
    }
    var out = new ArrayList<ClusterNode>();
    for (ProcessNode n : started) {
      out.add(n.awaitReady());
    }
    return out;
  }

  /** What a process node does on SIGTERM ({@link dev.handoff.StateHandoff#leaveOnShutdown}). */
  public enum OnShutdown {
    /** Leaves gracefully; its sessions stay in the log, owned by it, for a pickup. */
    LEAVE,
    /**
     * Moves its sessions: drains them to a RUNNING member if there is one, and stashes what is left
     * for a successor that adopts them (each state handed over or stashed ends with {@code
     * "+moved"}).
     */
    MOVE_SESSIONS
  }

  /** Stops a node gracefully: it leaves (SIGTERM for a process node) and waits until it is gone. */
  public void stopNode(ClusterNode node) {
    if (node instanceof InProcessNode n) {
      n.leave().join();
      n.stop();
    } else {
      ((ProcessNode) node).sigterm();
    }
  }

  /**
   * Kills a node without a leave: {@code kill -9} for a process node; for an in-process node its
   * resources are closed without leaving (its ZooKeeper session ends, peers see it go down).
   */
  public void killNode(ClusterNode node) {
    if (node instanceof InProcessNode n) {
      n.stop();
    } else {
      ((ProcessNode) node).sigkill();
    }
  }

  /** Forces a real server-side expiry of the node's ZooKeeper session, as a long pause would. */
  public void expireSession(ClusterNode node) {
    ZkMembership.SessionCredentials s =
        node instanceof InProcessNode n ? n.session() : ((ProcessNode) node).session();
    env.expireZooKeeperSession(s.sessionId(), s.password());
  }

  /** Restarts one Kafka broker (keeping its data). */
  public void restartBroker(int index) {
    env.restartKafkaBroker(index);
  }

  /** The nodes started so far, in start order (stopped and killed ones included). */
  public List<ClusterNode> nodes() {
    return List.copyOf(nodes);
  }

  /** Waits up to 60 s until {@code condition} holds; fails naming {@code what} otherwise. */
  public void waitUntil(String what, Callable<Boolean> condition) {
    waitUntil(what, Duration.ofSeconds(60), condition);
  }

  public void waitUntil(String what, Duration atMost, Callable<Boolean> condition) {
    await(what).atMost(atMost).pollInterval(Duration.ofMillis(20)).until(condition);
  }

  private NodeConfig config(String memberId) {
    var kafkaClient = new TreeMap<String, String>();
    env.kafkaClientProperties().forEach((k, v) -> kafkaClient.put(k, String.valueOf(v)));
    return new NodeConfig(
        env.bootstrapServers(),
        env.zookeeperConnect(),
        topic,
        partitions,
        replicationFactor,
        memberId,
        sessionTimeout,
        endedRetention,
        topicConfig,
        kafkaClient,
        env.zookeeperClientProperties(),
        env.zookeeperJaasFile().map(Path::toString).orElse(null));
  }

  /**
   * Kills every node still running, then stops Kafka and ZooKeeper if this cluster started them.
   */
  @Override
  public void close() {
    var errors = new ArrayList<RuntimeException>();
    for (ClusterNode n : nodes) {
      try {
        if (n instanceof InProcessNode p) {
          p.stop();
        } else if (n.isAlive()) {
          ((ProcessNode) n).sigkill();
        }
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    if (ownsEnv) {
      try {
        env.close();
      } catch (Exception e) {
        errors.add(new IllegalStateException(e));
      }
    }
    if (!errors.isEmpty()) {
      var e = new IllegalStateException("closing the cluster failed");
      errors.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Options of a {@link HandoffCluster}; every one has a default that suits tests. */
  public static final class Builder {
    private HandoffEnvironment environment;
    private int kafkaBrokers = 1;
    private int zookeeperServers = 1;
    private boolean fastCompaction;
    private String topic;
    private int partitions = 4;
    private Duration sessionTimeout = Duration.ofSeconds(4);
    private Duration endedRetention = Duration.ofMinutes(10);

    private Builder() {}

    /** Use an environment that is already running (it is not closed with the cluster). */
    public Builder environment(HandoffEnvironment environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
      return this;
    }

    /** Brokers of the embedded Kafka this cluster starts (1 or 3). Default 1. */
    public Builder kafkaBrokers(int n) {
      this.kafkaBrokers = n;
      return this;
    }

    /** Servers of the embedded ZooKeeper this cluster starts (1 or 3). Default 1. */
    public Builder zookeeperServers(int n) {
      this.zookeeperServers = n;
      return this;
    }

    /** Compact the topic within seconds (for tests that check state after compaction). */
    public Builder fastCompaction(boolean on) {
      this.fastCompaction = on;
      return this;
    }

    /** The topic. Default: a fresh name per cluster. */
    public Builder topic(String topic) {
      this.topic = Objects.requireNonNull(topic, "topic");
      return this;
    }

    /** Partitions of the topic. Default 4. */
    public Builder partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /**
     * ZooKeeper session timeout of every node: how soon a killed node is seen down. Default 4 s.
     */
    public Builder sessionTimeout(Duration timeout) {
      this.sessionTimeout = Objects.requireNonNull(timeout, "sessionTimeout");
      return this;
    }

    /** How long ended sessions keep fencing older owners. Default 10 min. */
    public Builder endedRetention(Duration retention) {
      this.endedRetention = Objects.requireNonNull(retention, "endedRetention");
      return this;
    }

    /** Starts Kafka and ZooKeeper (unless an environment was given); add nodes next. */
    public HandoffCluster start() {
      if (environment != null) {
        return new HandoffCluster(this, environment, false);
      }
      var env =
          EmbeddedEnvironment.builder()
              .kafkaBrokers(kafkaBrokers)
              .zookeeperServers(zookeeperServers)
              .fastCompaction(fastCompaction)
              .start();
      return new HandoffCluster(this, env, true);
    }
  }
}
