package dev.handoff;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.Membership;
import dev.handoff.spi.StateCodec;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Builds a {@link StateHandoff}; get one from {@link StateHandoff#builder()}.
 *
 * <p>Every option may be set once: a second call throws {@link IllegalStateException}. A setter
 * checks its value at once and throws {@link IllegalArgumentException} naming the option and the
 * value; {@link #build()} checks that the required options are set and throws {@link
 * IllegalStateException} naming the missing one.
 *
 * @param <T> the application's session state type
 */
public final class StateHandoffBuilder<T> {
  DeltaLog deltaLog;
  Membership membership;
  StateCodec<T> codec;
  Duration operationTimeout;
  Duration endedRetention;
  Duration sweepInterval;
  Executor callbackExecutor;
  String name;
  Duration maxClockSkew;
  long maxPendingBytes;
  OperationRecorder operationRecorder;

  static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_ENDED_RETENTION = Duration.ofHours(1);
  static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(30);
  static final String DEFAULT_NAME = "node";
  static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofMinutes(1);

  StateHandoffBuilder() {}

  /** The log every node reads (required), e.g. log-sync's {@code KafkaDeltaLog}. */
  public StateHandoffBuilder<T> deltaLog(DeltaLog deltaLog) {
    once("deltaLog", this.deltaLog);
    this.deltaLog = Objects.requireNonNull(deltaLog, "deltaLog");
    return this;
  }

  /** Who is up (required), e.g. membership-zk's {@code ZkMembership}. */
  public StateHandoffBuilder<T> membership(Membership membership) {
    once("membership", this.membership);
    this.membership = Objects.requireNonNull(membership, "membership");
    return this;
  }

  /** How states become bytes (required), e.g. log-sync's {@code AvroStateCodec}. */
  public StateHandoffBuilder<T> codec(StateCodec<T> codec) {
    once("codec", this.codec);
    this.codec = Objects.requireNonNull(codec, "codec");
    return this;
  }

  /** How long stash, pickup and end may take before failing with a timeout. Default 30 s. */
  public StateHandoffBuilder<T> operationTimeout(Duration timeout) {
    once("operationTimeout", operationTimeout);
    this.operationTimeout = positive("operationTimeout", timeout);
    return this;
  }

  /**
   * How long an ended session's last record stays in the log, keeping older owners fenced, before
   * it is tombstoned. Default 1 hour.
   */
  public StateHandoffBuilder<T> endedRetention(Duration retention) {
    once("endedRetention", endedRetention);
    this.endedRetention = positive("endedRetention", retention);
    return this;
  }

  /** How often housekeeping appends due tombstones. Default 30 s. */
  public StateHandoffBuilder<T> sweepInterval(Duration interval) {
    once("sweepInterval", sweepInterval);
    this.sweepInterval = positive("sweepInterval", interval);
    return this;
  }

  /**
   * The most state bytes this node holds in stashes that are queued, in flight or waiting for their
   * read-back. A stash that would go past it fails at once with {@link HandoffException.Overloaded}
   * (nothing is queued), unless it replaces a stash of the same session that is still waiting to be
   * sent — only the latest state of a session is worth sending, so such a stash coalesces. While
   * 1,024 or more writes are held, stashes are also refused if that backlog would take more than a
   * second to complete at the rate writes have completed lately (a quarter of {@link
   * #operationTimeout} if that is less), so that an accepted stash completes in about that time
   * instead of queueing towards its timeout (fewer held are no backlog: a caller with a few hundred
   * in flight is never refused for being slow, and a burst that completes in time, such as every
   * hosted session stashed at shutdown, is taken whole); and while the node's owner thread lags
   * behind the stashes by half that time with 1,024 or more of them waiting for it, or holds this
   * many bytes of stashes it has not looked at yet. Default: a tenth of the maximum heap (room for
   * a burst such as every hosted session stashed at once; each state in flight costs about three
   * times its bytes), at least 8 MiB, and at most nine tenths of the log's {@link
   * dev.handoff.spi.DeltaLog#appendBufferBytes() appendBufferBytes} (so that an append never blocks
   * the node's owner thread on a full send buffer).
   */
  public StateHandoffBuilder<T> maxPendingBytes(long bytes) {
    if (maxPendingBytes != 0) {
      throw new IllegalStateException("maxPendingBytes was already set to " + maxPendingBytes);
    }
    if (bytes <= 0) {
      throw new IllegalArgumentException("maxPendingBytes must be positive, was " + bytes);
    }
    this.maxPendingBytes = bytes;
    return this;
  }

  static long defaultMaxPendingBytes(dev.handoff.spi.DeltaLog log) {
    // Room for a burst (every hosted session stashed at once, at creation or shutdown); under
    // sustained overload the latency bound keeps far less than this in flight.
    long ofHeap = Math.max(8L << 20, Runtime.getRuntime().maxMemory() / 10);
    long buffer = log.appendBufferBytes();
    return buffer == Long.MAX_VALUE ? ofHeap : Math.max(1, Math.min(ofHeap, buffer / 10 * 9));
  }

  /**
   * How far ahead of this node's clock another node's record time is believed; later times are
   * capped (and counted), so one node with a wrong clock cannot drag every node's clock along.
   * Retention is measured on this node's clock only. Default 1 minute.
   */
  public StateHandoffBuilder<T> maxClockSkew(Duration skew) {
    once("maxClockSkew", maxClockSkew);
    if (skew == null || skew.isNegative()) {
      throw new IllegalArgumentException("maxClockSkew must be zero or positive, was " + skew);
    }
    this.maxClockSkew = skew;
    return this;
  }

  /**
   * Where listeners run and where the futures this node returns complete. Default: listeners on one
   * daemon thread of this instance, futures on {@link
   * java.util.concurrent.ForkJoinPool#commonPool()}. Never the node's own threads, so blocking in a
   * callback cannot stall the node; but a single-threaded executor given here is blocked by a
   * callback that waits for another operation of the same node.
   */
  public StateHandoffBuilder<T> callbackExecutor(Executor executor) {
    once("callbackExecutor", callbackExecutor);
    this.callbackExecutor = Objects.requireNonNull(executor, "callbackExecutor");
    return this;
  }

  /**
   * Hears how long each stash, pickup, end and read took and how it ended, for metrics (for example
   * handoff-micrometer's {@code HandoffMetrics}). Default: {@link OperationRecorder#NONE}.
   */
  public StateHandoffBuilder<T> operationRecorder(OperationRecorder recorder) {
    once("operationRecorder", operationRecorder);
    this.operationRecorder = Objects.requireNonNull(recorder, "operationRecorder");
    return this;
  }

  /** A name for this node's threads and logs. Default "node". */
  public StateHandoffBuilder<T> name(String name) {
    once("name", this.name);
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
    }
    this.name = name;
    return this;
  }

  /** Checks that the required options are set and builds; call {@link StateHandoff#start()}. */
  public StateHandoff<T> build() {
    required(deltaLog != null, "deltaLog is required (for example a KafkaDeltaLog)");
    required(membership != null, "membership is required (for example a ZkMembership)");
    required(codec != null, "codec is required (for example an AvroStateCodec)");
    return new StateHandoff<>(this);
  }

  private static void once(String option, Object current) {
    if (current != null) {
      throw new IllegalStateException(option + " was already set to " + current);
    }
  }

  private static Duration positive(String option, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(option + " must be positive, was " + d);
    }
    return d;
  }

  private static void required(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }
}
