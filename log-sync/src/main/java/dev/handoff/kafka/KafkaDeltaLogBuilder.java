package dev.handoff.kafka;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Options of a {@link KafkaDeltaLog}, from {@link KafkaDeltaLog#builder()}. Every option is set at
 * most once: a second call throws {@link IllegalStateException} ({@link #topicConfig} and {@link
 * #clientProperty} once per key). Every setter validates its argument at once and throws {@link
 * IllegalArgumentException} naming the option and the bad value. {@link #build()} checks the
 * required and cross-option rules and throws {@link IllegalStateException} naming the options. A
 * builder may build several logs; it is not thread-safe.
 */
public final class KafkaDeltaLogBuilder {

  private static final String DEFAULT_TOPIC = "handoff-sessions";
  private static final int DEFAULT_PARTITIONS = 12;
  private static final short DEFAULT_REPLICATION_FACTOR = 3;
  private static final Duration DEFAULT_SEGMENT_TIME = Duration.ofHours(1);
  private static final int DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
  private static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(5);
  private static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
  // StateHandoff's default endedRetention.
  static final Duration DEFAULT_ENDED_RETENTION = Duration.ofHours(1);

  // null: not set, the default applies at build().
  private String bootstrapServers;
  private String topic;
  private Integer partitions;
  private Short replicationFactor;
  private Integer minInSyncReplicas;
  private Duration minCompactionLag;
  private Duration segmentTime;
  private Integer segmentBytes;
  private final Map<String, String> topicConfigs = new LinkedHashMap<>();
  private final Map<String, Object> clientProperties = new LinkedHashMap<>();
  private Integer maxStateBytes;
  private Duration progressInterval;
  private Duration requestTimeout;
  private KafkaDeltaLog.Listener listener;
  private Long memoryBudget;
  private Boolean heapCheck;
  private Duration endedRetention;
  private final Set<String> acceptedRisks = new TreeSet<>();
  private String clientIdGroup;
  private String clientIdMember;
  private static final java.util.concurrent.atomic.AtomicInteger LOGS =
      new java.util.concurrent.atomic.AtomicInteger();

  KafkaDeltaLogBuilder() {}

  /** Kafka's {@code bootstrap.servers}. Required (here or as a client property). */
  public KafkaDeltaLogBuilder bootstrapServers(String servers) {
    requireUnset("bootstrapServers", bootstrapServers);
    this.bootstrapServers = requireText(servers, "bootstrapServers");
    return this;
  }

  /** The topic; default {@code handoff-sessions}. */
  public KafkaDeltaLogBuilder topic(String topic) {
    requireUnset("topic", this.topic);
    this.topic = requireText(topic, "topic");
    return this;
  }

  /**
   * Partitions of a topic this log creates; default 12. An existing topic keeps its count. Never
   * add partitions to a topic in use: a session's partition is its hash modulo the count.
   */
  public KafkaDeltaLogBuilder partitions(int partitions) {
    requireUnset("partitions", this.partitions);
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
    }
    this.partitions = partitions;
    return this;
  }

  /** Replication factor of a topic this log creates; default 3. */
  public KafkaDeltaLogBuilder replicationFactor(int replicationFactor) {
    requireUnset("replicationFactor", this.replicationFactor);
    if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
      throw new IllegalArgumentException(
          "replicationFactor must be between 1 and "
              + Short.MAX_VALUE
              + ", was "
              + replicationFactor);
    }
    this.replicationFactor = (short) replicationFactor;
    return this;
  }

  /**
   * {@code min.insync.replicas} of a topic this log creates; default {@code min(2,
   * replicationFactor)}, so an acknowledged append survives the loss of one broker.
   */
  public KafkaDeltaLogBuilder minInSyncReplicas(int replicas) {
    requireUnset("minInSyncReplicas", minInSyncReplicas);
    if (replicas < 1) {
      throw new IllegalArgumentException("minInSyncReplicas must be >= 1, was " + replicas);
    }
    this.minInSyncReplicas = replicas;
    return this;
  }

  /**
   * {@code min.compaction.lag.ms} of a topic this log creates; default 0. Correctness does not
   * depend on it (each record is decidable alone); raise it to keep recent history readable.
   */
  public KafkaDeltaLogBuilder minCompactionLag(Duration lag) {
    requireUnset("minCompactionLag", minCompactionLag);
    this.minCompactionLag = requireNonNegative(lag, "minCompactionLag");
    return this;
  }

  /**
   * {@code segment.ms} of a topic this log creates; default 1 hour (Kafka's 7 days would keep the
   * active segment, which is never compacted, for a week).
   */
  public KafkaDeltaLogBuilder segmentTime(Duration segmentTime) {
    requireUnset("segmentTime", this.segmentTime);
    this.segmentTime = requirePositive(segmentTime, "segmentTime");
    return this;
  }

  /** {@code segment.bytes} of a topic this log creates; default 64 MiB. */
  public KafkaDeltaLogBuilder segmentBytes(int segmentBytes) {
    requireUnset("segmentBytes", this.segmentBytes);
    if (segmentBytes < 14) {
      throw new IllegalArgumentException("segmentBytes must be >= 14, was " + segmentBytes);
    }
    this.segmentBytes = segmentBytes;
    return this;
  }

  /**
   * Any other topic config for a topic this log creates (for example {@code
   * min.cleanable.dirty.ratio}, {@code delete.retention.ms}, {@code max.message.bytes}), once per
   * key. {@code cleanup.policy} can only be {@code compact}; a key that has its own option (such as
   * {@code segment.ms}) may be given here or there, not both.
   */
  public KafkaDeltaLogBuilder topicConfig(String key, String value) {
    requireText(key, "topicConfig key");
    if (topicConfigs.containsKey(key)) {
      throw new IllegalStateException(
          "topicConfig " + key + " was already set to " + topicConfigs.get(key));
    }
    if (value == null) {
      throw new IllegalArgumentException("topicConfig " + key + " must not be null");
    }
    if (key.equals(TopicConfig.CLEANUP_POLICY_CONFIG)
        && !value.trim().equals(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      throw new IllegalArgumentException(
          "topicConfig cleanup.policy=" + value + " is not allowed: the log needs compact only");
    }
    topicConfigs.put(key, value);
    return this;
  }

  /**
   * A Kafka client property given to the producer, the consumer and the admin client (for example
   * {@code security.protocol}, {@code sasl.jaas.config}, {@code ssl.truststore.location}, {@code
   * client.id}, {@code compression.type}), once per key. A property that only some kinds of client
   * know goes to those. The log refuses properties that would weaken its guarantees ({@code acks}
   * other than {@code all}, {@code enable.idempotence=false}, {@code group.id}, serializers).
   */
  public KafkaDeltaLogBuilder clientProperty(String key, Object value) {
    requireText(key, "clientProperty key");
    if (clientProperties.containsKey(key)) {
      throw new IllegalStateException(
          "clientProperty " + key + " was already set to " + clientProperties.get(key));
    }
    if (value == null) {
      throw new IllegalArgumentException("clientProperty " + key + " must not be null");
    }
    ClientConfigs.validate(Map.of(key, value));
    clientProperties.put(key, value);
    return this;
  }

  /** Adds every entry as by {@link #clientProperty}. */
  public KafkaDeltaLogBuilder clientProperties(Map<String, ?> properties) {
    if (properties == null) {
      throw new IllegalArgumentException("clientProperties must not be null");
    }
    properties.forEach(this::clientProperty);
    return this;
  }

  /**
   * The largest state {@link KafkaDeltaLog#append} accepts; default: the topic's record limit minus
   * 4 KiB. Start fails if the topic cannot carry states this large.
   */
  public KafkaDeltaLogBuilder maxStateBytes(int maxStateBytes) {
    requireUnset("maxStateBytes", this.maxStateBytes);
    if (maxStateBytes < 1) {
      throw new IllegalArgumentException("maxStateBytes must be >= 1, was " + maxStateBytes);
    }
    this.maxStateBytes = maxStateBytes;
    return this;
  }

  /** How often replay progress is reported to the listener and the log; default 5 s; 0: never. */
  public KafkaDeltaLogBuilder progressInterval(Duration interval) {
    requireUnset("progressInterval", progressInterval);
    this.progressInterval = requireNonNegative(interval, "progressInterval");
    return this;
  }

  /**
   * Bound on each admin request and end-offset lookup during start and barriers, and on close;
   * default 30 s.
   */
  public KafkaDeltaLogBuilder requestTimeout(Duration timeout) {
    requireUnset("requestTimeout", requestTimeout);
    this.requestTimeout = requirePositive(timeout, "requestTimeout");
    return this;
  }

  /**
   * Names this node's Kafka clients {@code handoff-<group>-<memberId>-<role>} (role {@code
   * producer}, {@code reader} or {@code admin}): unique per node, and the same across its restarts,
   * for broker logs, quotas and client metrics. Pass the membership's group and member id. Default:
   * {@code handoff-<topic>-<n>-<role>}, with {@code n} counting the logs built in this JVM. A
   * {@code client.id} client property takes precedence (see {@link #clientProperty}).
   */
  public KafkaDeltaLogBuilder clientIdsFor(String group, String memberId) {
    requireUnset(
        "clientIdsFor", clientIdGroup == null ? null : clientIdGroup + "/" + clientIdMember);
    this.clientIdGroup = requireText(group, "clientIdsFor group");
    this.clientIdMember = requireText(memberId, "clientIdsFor memberId");
    return this;
  }

  /** Receives replay progress and reader failures, on the reader thread; default: none. */
  public KafkaDeltaLogBuilder listener(KafkaDeltaLog.Listener listener) {
    requireUnset("listener", this.listener);
    if (listener == null) {
      throw new IllegalArgumentException("listener must not be null");
    }
    this.listener = listener;
    return this;
  }

  /**
   * Heap the log's Kafka clients may use for buffers, from which it derives their settings: the
   * consumer's fetched data gets at most half, and no more than 1 MiB per partition (consumer share
   * = min(budget / 2, partitions × 1 MiB); {@code max.partition.fetch.bytes} = share / partitions;
   * {@code fetch.max.bytes} = share / 2; {@code max.poll.records} ≤ 5,000), the producer's {@code
   * buffer.memory} the rest (see {@link KafkaDeltaLog#appendBufferBytes()}). Default: an eighth of
   * the max heap ({@code -Xmx}), between 16 MiB and 256 MiB. At least 4 MiB. A client property
   * given with {@link #clientProperty} (for example {@code fetch.max.bytes}) wins over the derived
   * value; start logs a warning if the clients may then use more than the budget.
   *
   * <p>A node's heap holds the replica (every session's state plus a few hundred bytes), the writes
   * in flight and these buffers; see {@link #checkHeap}.
   */
  public KafkaDeltaLogBuilder memoryBudget(long bytes) {
    requireUnset("memoryBudget", memoryBudget);
    if (bytes < ClientBuffers.MIN_BUDGET) {
      throw new IllegalArgumentException(
          "memoryBudget must be at least " + ClientBuffers.MIN_BUDGET + " bytes, was " + bytes);
    }
    this.memoryBudget = bytes;
    return this;
  }

  /**
   * Whether start checks, while it replays the topic, that the replica it builds plus the client
   * buffers fit this JVM's heap, and fails with the numbers (sessions, bytes, heap) if they do not;
   * default true. Turn it off only for a sink that does not keep the states.
   */
  public KafkaDeltaLogBuilder checkHeap(boolean check) {
    requireUnset("checkHeap", heapCheck);
    this.heapCheck = check;
    return this;
  }

  /**
   * The {@code endedRetention} of the {@code StateHandoff} nodes that use this log; default 1 hour,
   * StateHandoff's default. <b>Set it whenever you set StateHandoff's</b>: the log cannot read it
   * from the node. Start fails if the topic's {@code delete.retention.ms} is shorter (unless {@link
   * #acceptDataLossRisk accepted}): a node paused, or replaying, for up to {@code endedRetention}
   * must still find every tombstone written meanwhile, or it keeps slots in memory that the other
   * nodes removed.
   */
  public KafkaDeltaLogBuilder endedRetention(Duration retention) {
    requireUnset("endedRetention", endedRetention);
    this.endedRetention = requirePositive(retention, "endedRetention");
    return this;
  }

  /**
   * Runs on a topic whose {@code topicSetting} start would otherwise refuse, because with it an
   * acknowledged stash can be lost or a paused zombie can outlive its fencing: one of {@code
   * cleanup.policy}, {@code min.insync.replicas}, {@code unclean.leader.election.enable}, {@code
   * delete.retention.ms} (see {@link #endedRetention}), {@code max.message.bytes}. Start then logs
   * the risk at WARN and {@link KafkaDeltaLog#topicWarnings()} reports it. Once per setting. For
   * tests that compact within seconds, and for data you can afford to lose.
   */
  public KafkaDeltaLogBuilder acceptDataLossRisk(String topicSetting) {
    requireText(topicSetting, "acceptDataLossRisk");
    if (!TopicDurability.CHECKED.contains(topicSetting)) {
      throw new IllegalArgumentException(
          "acceptDataLossRisk takes one of "
              + new TreeSet<>(TopicDurability.CHECKED)
              + ", was '"
              + topicSetting
              + "'");
    }
    if (!acceptedRisks.add(topicSetting)) {
      throw new IllegalStateException("acceptDataLossRisk " + topicSetting + " was already set");
    }
    return this;
  }

  /**
   * Builds the log; nothing connects until {@link KafkaDeltaLog#start}.
   *
   * @throws IllegalStateException naming the options if bootstrap servers are missing or options
   *     conflict
   */
  public KafkaDeltaLog build() {
    Object fromProps = clientProperties.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
    String servers = bootstrapServers != null ? bootstrapServers : servers(fromProps);
    if (servers == null) {
      throw new IllegalStateException(
          "bootstrapServers is required (or the client property bootstrap.servers)");
    }
    short rf = replicationFactor == null ? DEFAULT_REPLICATION_FACTOR : replicationFactor;
    int minIsr = minInSyncReplicas == null ? Math.min(2, rf) : minInSyncReplicas;
    if (minIsr > rf) {
      throw new IllegalStateException(
          "minInSyncReplicas="
              + minIsr
              + " is more than replicationFactor="
              + rf
              + ": no append could ever be acknowledged");
    }
    requireNotBoth("minInSyncReplicas", minInSyncReplicas, TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
    requireNotBoth("minCompactionLag", minCompactionLag, TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG);
    requireNotBoth("segmentTime", segmentTime, TopicConfig.SEGMENT_MS_CONFIG);
    requireNotBoth("segmentBytes", segmentBytes, TopicConfig.SEGMENT_BYTES_CONFIG);

    Map<String, String> configs = new LinkedHashMap<>();
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minIsr));
    configs.put(
        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG,
        Long.toString(minCompactionLag == null ? 0 : minCompactionLag.toMillis()));
    configs.put(
        TopicConfig.SEGMENT_MS_CONFIG,
        Long.toString((segmentTime == null ? DEFAULT_SEGMENT_TIME : segmentTime).toMillis()));
    configs.put(
        TopicConfig.SEGMENT_BYTES_CONFIG,
        Integer.toString(segmentBytes == null ? DEFAULT_SEGMENT_BYTES : segmentBytes));
    configs.putAll(topicConfigs);
    long budget =
        memoryBudget != null
            ? memoryBudget
            : ClientBuffers.defaultBudget(Runtime.getRuntime().maxMemory());
    long maxRequestSize =
        ClientBuffers.longValue(
            clientProperties.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 1 << 20);
    int parts = partitions == null ? DEFAULT_PARTITIONS : partitions;
    if (!clientProperties.containsKey(ProducerConfig.BUFFER_MEMORY_CONFIG)
        && ClientBuffers.bufferMemory(budget, parts) < maxRequestSize) {
      throw new IllegalStateException(
          "memoryBudget="
              + budget
              + " leaves the producer buffer.memory="
              + ClientBuffers.bufferMemory(budget, parts)
              + ", less than max.request.size="
              + maxRequestSize
              + ": raise memoryBudget to at least "
              + 2 * maxRequestSize
              + " or set buffer.memory as a client property");
    }
    return new KafkaDeltaLog(
        new LogSettings(
            servers,
            topic == null ? DEFAULT_TOPIC : topic,
            partitions == null ? DEFAULT_PARTITIONS : partitions,
            rf,
            Map.copyOf(configs),
            Map.copyOf(clientProperties),
            maxStateBytes == null ? 0 : maxStateBytes,
            maxStateBytes != null,
            progressInterval == null ? DEFAULT_PROGRESS_INTERVAL : progressInterval,
            requestTimeout == null ? DEFAULT_REQUEST_TIMEOUT : requestTimeout,
            listener == null ? new KafkaDeltaLog.Listener() {} : listener,
            endedRetention == null ? DEFAULT_ENDED_RETENTION : endedRetention,
            Set.copyOf(acceptedRisks),
            clientIdGroup != null
                ? "handoff-" + clientIdGroup + "-" + clientIdMember
                : "handoff-"
                    + (topic == null ? DEFAULT_TOPIC : topic)
                    + "-"
                    + LOGS.incrementAndGet(),
            budget,
            heapCheck == null || heapCheck));
  }

  private static String servers(Object clientProperty) {
    return clientProperty == null ? null : clientProperty.toString();
  }

  private static void requireUnset(String option, Object current) {
    if (current != null) {
      throw new IllegalStateException(option + " was already set to " + current);
    }
  }

  /** An option with its own setter may also be given as a topic config, but not both ways. */
  private void requireNotBoth(String option, Object value, String configKey) {
    if (value != null && topicConfigs.containsKey(configKey)) {
      throw new IllegalStateException(
          option
              + " ("
              + value
              + ") and topicConfig "
              + configKey
              + " ("
              + topicConfigs.get(configKey)
              + ") are both set; set one of them");
    }
  }

  private static String requireText(String s, String option) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(
          option + " must not be null or blank, was " + (s == null ? "null" : "'" + s + "'"));
    }
    return s;
  }

  private static Duration requireNonNegative(Duration d, String option) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(option + " must not be null or negative, was " + d);
    }
    return d;
  }

  private static Duration requirePositive(Duration d, String option) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(option + " must be positive, was " + d);
    }
    return d;
  }
}
