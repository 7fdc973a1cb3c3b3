package dev.handoff.micrometer;

import dev.handoff.HandoffException;
import dev.handoff.MemberEvent;
import dev.handoff.NodeState;
import dev.handoff.OperationRecorder;
import dev.handoff.StateHandoff;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters for one {@link StateHandoff} node. It is both the node's {@link
 * OperationRecorder} (give it to {@link dev.handoff.StateHandoffBuilder#operationRecorder}) and a
 * {@link MeterBinder}:
 *
 * <pre>{@code
 * HandoffMetrics metrics = HandoffMetrics.builder().topic("game-sessions").group("game-servers")
 *     .member(podName).build();
 * StateHandoff<GameState> handoff = StateHandoff.<GameState>builder()
 *     ... .operationRecorder(metrics).build();
 * metrics.monitor(handoff);                 // the gauges read it
 * metrics.bindTo(registry);                 // e.g. a PrometheusMeterRegistry
 * }</pre>
 *
 * <p>Meters, all tagged {@code topic}, {@code group}, {@code member} (and any {@link Builder#tag}):
 *
 * <ul>
 *   <li>timers {@code handoff.stash}, {@code handoff.pickup}, {@code handoff.end}, {@code
 *       handoff.read}, tagged {@code outcome}: {@code ok}, {@code fenced}, {@code owned-elsewhere},
 *       {@code timeout}, {@code too-large}, {@code overloaded}, {@code not-ready}, {@code left} or
 *       {@code failed};
 *   <li>counter {@code handoff.writes.fenced}: stashes and ends refused because another node owns
 *       the session or this node lost its membership;
 *   <li>gauges {@code handoff.sessions.held} (sessions the replica holds, live and recently ended),
 *       {@code handoff.sessions.owned} (live sessions this incarnation owns), {@code
 *       handoff.writes.pending} (writes not yet acknowledged), {@code handoff.writes.pending.bytes}
 *       (their state bytes, bounded by {@code maxPendingBytes}), {@code
 *       handoff.replica.metadata.bytes} (replica bookkeeping beyond keys and states), {@code
 *       handoff.reader.lag} (records not read yet, -1 if the log does not tell), {@code
 *       handoff.replay.progress} (percent, 0 to 100);
 *   <li>function counters {@code handoff.records.applied} (log records applied since start), {@code
 *       handoff.stash.coalesced} (stashes whose state a newer one of the same session replaced
 *       before it was sent) and {@code handoff.transfers.retried} (claims of drains and adoptions
 *       tried again after a transient failure);
 *   <li>gauge {@code handoff.state}, tagged {@code state} with every {@link NodeState}: 1 for the
 *       node's state, 0 for the others;
 *   <li>gauge {@code handoff.membership.connection}, tagged {@code state} with every {@link
 *       MemberEvent.ConnectionState}: 1 for the last state the membership reported (ZooKeeper's
 *       connection, through Curator, for {@code ZkMembership}).
 * </ul>
 *
 * For the delta log's own counters and the Kafka clients' metrics, bind a {@link
 * KafkaDeltaLogMetrics} too.
 *
 * <p>Thread-safe. {@link #close()} removes the membership listener; the meters stay in the
 * registries.
 */
public final class HandoffMetrics implements OperationRecorder, MeterBinder, AutoCloseable {

  private final Tags tags;
  // Every registry bound so far: meters registered here reach all of them.
  private final CompositeMeterRegistry registries = new CompositeMeterRegistry();
  private final Map<Operation, Map<String, Timer>> timers = new EnumMap<>(Operation.class);
  private volatile Counter fenced;
  // Meters go to the composite only once it has a registry: Micrometer warns otherwise.
  private boolean gaugesRegistered;
  private volatile StateHandoff<?> handoff;
  private volatile MemberEvent.ConnectionState connection;
  private AutoCloseable memberListener;

  private HandoffMetrics(Tags tags) {
    this.tags = tags;
    for (Operation op : Operation.values()) {
      timers.put(op, new ConcurrentHashMap<>());
    }
  }

  /** A builder; {@code topic}, {@code group} and {@code member} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads the node's gauges from {@code handoff} and listens to its membership connection. Call it
   * once, after building the node (which takes this as its recorder) and before or after {@link
   * #bindTo}.
   *
   * @param handoff the node
   * @return this
   * @throws IllegalStateException if a node is already monitored
   */
  public synchronized HandoffMetrics monitor(StateHandoff<?> handoff) {
    Objects.requireNonNull(handoff, "handoff");
    if (this.handoff != null) {
      throw new IllegalStateException("HandoffMetrics already monitors " + this.handoff);
    }
    this.handoff = handoff;
    memberListener =
        handoff.onMemberEvent(
            e -> {
              if (e instanceof MemberEvent.ConnectionChanged c) {
                connection = c.state();
              }
            });
    registerWhenBound();
    return this;
  }

  /** Adds {@code registry} to those that get this node's meters. */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    registries.add(Objects.requireNonNull(registry, "registry"));
    if (fenced == null) {
      fenced =
          Counter.builder("handoff.writes.fenced")
              .description(
                  "Stashes and ends refused: another node owns the session, or this node"
                      + " lost its membership")
              .tags(tags)
              .register(registries);
    }
    registerWhenBound();
  }

  private void registerWhenBound() {
    if (!gaugesRegistered && handoff != null && !registries.getRegistries().isEmpty()) {
      gaugesRegistered = true;
      registerGauges(handoff);
    }
  }

  @Override
  public void record(Operation operation, long nanos, Throwable failure) {
    String outcome = outcomeOf(failure);
    Counter fencedWrites = fenced;
    if (fencedWrites != null
        && failure instanceof HandoffException.Fenced
        && (operation == Operation.STASH || operation == Operation.END)) {
      fencedWrites.increment();
    }
    timers
        .get(operation)
        .computeIfAbsent(
            outcome,
            o ->
                Timer.builder("handoff." + operation.name().toLowerCase(java.util.Locale.ROOT))
                    .description(
                        "StateHandoff."
                            + operation.name().toLowerCase(java.util.Locale.ROOT)
                            + ": from the call to the completion of its future")
                    .tags(tags)
                    .tag("outcome", o)
                    .register(registries))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The {@code outcome} tag of an operation that ended with {@code failure} (null: ok). */
  static String outcomeOf(Throwable failure) {
    if (failure == null) {
      return "ok";
    }
    if (failure instanceof HandoffException.Fenced) {
      return "fenced";
    }
    if (failure instanceof HandoffException.OwnedElsewhere) {
      return "owned-elsewhere";
    }
    if (failure instanceof HandoffException.Timeout) {
      return "timeout";
    }
    if (failure instanceof HandoffException.TooLarge) {
      return "too-large";
    }
    if (failure instanceof HandoffException.Overloaded) {
      return "overloaded";
    }
    if (failure instanceof HandoffException.NotReady) {
      return "not-ready";
    }
    if (failure instanceof HandoffException.Left) {
      return "left";
    }
    return "failed";
  }

  private void registerGauges(StateHandoff<?> h) {
    gauge(
        "handoff.sessions.held",
        "Sessions the replica holds, live and recently ended",
        () -> h.stats().sessions());
    gauge(
        "handoff.sessions.owned",
        "Live sessions this incarnation owns",
        () -> h.isReady() ? h.ownedKeys().size() : 0);
    gauge("handoff.writes.pending", "Writes not yet acknowledged", () -> h.stats().pendingWrites());
    Gauge.builder("handoff.writes.pending.bytes", () -> h.stats().pendingBytes())
        .description("State bytes of the stashes queued or in flight")
        .baseUnit("bytes")
        .tags(tags)
        .register(registries);
    FunctionCounter.builder("handoff.stash.coalesced", h, x -> x.stats().coalescedStashes())
        .description("Stashes whose state a newer stash of the session replaced before it was sent")
        .tags(tags)
        .register(registries);
    FunctionCounter.builder("handoff.transfers.retried", h, x -> x.stats().retriedTransfers())
        .description("Claims of drains and adoptions tried again after a transient failure")
        .tags(tags)
        .register(registries);
    Gauge.builder("handoff.replica.metadata.bytes", () -> h.stats().metadataBytes())
        .description("Replica bookkeeping beyond keys and states, as of the last sweep")
        .baseUnit("bytes")
        .tags(tags)
        .register(registries);
    gauge(
        "handoff.reader.lag",
        "Log records not read yet (-1: unknown)",
        () -> h.health().readerLag());
    Gauge.builder("handoff.replay.progress", () -> h.health().replayPercent())
        .description("Start-up replay, percent of the log read")
        .baseUnit("percent")
        .tags(tags)
        .register(registries);
    FunctionCounter.builder("handoff.records.applied", h, x -> x.stats().appliedRecords())
        .description("Log records applied since start")
        .tags(tags)
        .register(registries);
    for (NodeState s : NodeState.values()) {
      Gauge.builder("handoff.state", () -> h.state() == s ? 1 : 0)
          .description("1 for the node's state, 0 for the others")
          .tags(tags)
          .tag("state", s.name())
          .register(registries);
    }
    for (MemberEvent.ConnectionState s : MemberEvent.ConnectionState.values()) {
      Gauge.builder("handoff.membership.connection", () -> connectionState(h) == s ? 1 : 0)
          .description("1 for the membership connection's last state, 0 for the others")
          .tags(tags)
          .tag("state", s.name())
          .register(registries);
    }
  }

  /** The last reported state; before any report, connected while the node may write. */
  private MemberEvent.ConnectionState connectionState(StateHandoff<?> h) {
    var c = connection;
    if (c != null) {
      return c;
    }
    return h.health().membershipConnected()
        ? MemberEvent.ConnectionState.CONNECTED
        : MemberEvent.ConnectionState.SUSPENDED;
  }

  private void gauge(String name, String description, java.util.function.Supplier<Number> value) {
    Gauge.builder(name, value).description(description).tags(tags).register(registries);
  }

  /** Removes the membership listener. Idempotent. */
  @Override
  public synchronized void close() {
    if (memberListener != null) {
      try {
        memberListener.close();
      } catch (Exception e) {
        // removing a listener does not fail; nothing to do if it does
      }
      memberListener = null;
    }
  }

  /** The tags every meter of this node carries. */
  public Tags tags() {
    return tags;
  }

  /** Builds {@link HandoffMetrics}: the tags that name the node. */
  public static final class Builder {
    private String topic;
    private String group;
    private String member;
    private final Map<String, String> extra = new java.util.LinkedHashMap<>();

    private Builder() {}

    /** Required: the delta log's topic (tag {@code topic}). */
    public Builder topic(String topic) {
      this.topic = set("topic", this.topic, topic);
      return this;
    }

    /** Required: the membership group (tag {@code group}). */
    public Builder group(String group) {
      this.group = set("group", this.group, group);
      return this;
    }

    /** Required: the member id (tag {@code member}), stable across restarts, e.g. the pod name. */
    public Builder member(String member) {
      this.member = set("member", this.member, member);
      return this;
    }

    /** Another tag on every meter, e.g. {@code version}; once per key. */
    public Builder tag(String key, String value) {
      if (key == null || key.isBlank()) {
        throw new IllegalArgumentException("tag key must not be blank, was '" + key + "'");
      }
      if (extra.containsKey(key)
          || key.equals("topic")
          || key.equals("group")
          || key.equals("member")) {
        throw new IllegalStateException("tag " + key + " was already set");
      }
      extra.put(key, text("tag " + key, value));
      return this;
    }

    /**
     * @throws IllegalStateException naming the missing option
     */
    public HandoffMetrics build() {
      if (topic == null || group == null || member == null) {
        throw new IllegalStateException(
            "topic, group and member are required; missing: "
                + (topic == null ? "topic " : "")
                + (group == null ? "group " : "")
                + (member == null ? "member" : ""));
      }
      Tags tags = Tags.of("topic", topic, "group", group, "member", member);
      for (var e : extra.entrySet()) {
        tags = tags.and(Tag.of(e.getKey(), e.getValue()));
      }
      return new HandoffMetrics(tags);
    }

    private static String set(String option, String current, String value) {
      if (current != null) {
        throw new IllegalStateException(option + " was already set to " + current);
      }
      return text(option, value);
    }

    private static String text(String option, String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(option + " must not be blank, was '" + value + "'");
      }
      return value;
    }
  }
}
