package dev.handoff.kafka;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link DeltaLog} over one compacted Kafka topic, with plain Kafka clients (no Kafka Streams).
 *
 * <p><b>Protocol.</b> On {@link #start(Consumer)} a single reader thread creates the topic if it is
 * missing, checks the topic's durability settings and this principal's ACLs on it (failing start
 * naming a risky setting or a missing operation; see {@link
 * KafkaDeltaLogBuilder#acceptDataLossRisk} and {@link #topicWarnings()}), publishes this node's
 * Avro writer schemas, assigns itself every partition (no consumer group), seeks to the beginning,
 * reads the end offsets, and hands every record to the sink until its position in every partition
 * has reached those end offsets; then the start future completes. It keeps reading after that.
 * {@link #barrier()} uses the same rule ("read to end", as Kafka Connect's {@code KafkaBasedLog}
 * does): it reads the end offsets (high watermarks, via the admin client's {@code ListOffsets} with
 * {@code latest}) after the call starts, and completes once the reader's position in every
 * partition has reached them. An append acknowledged with {@code acks=all} lies below the high
 * watermark, so every record acknowledged before the call has then reached the sink. The reader
 * publishes its positions after handing each batch to the sink, so a barrier never needs to wake or
 * block the reader thread.
 *
 * <p><b>Records.</b> The key is the slot (session, writer) in a small versioned binary format; the
 * value is the {@link dev.handoff.spi.SlotState} in Avro single-object encoding, or {@code null} (a
 * Kafka tombstone) when the slot is removed. Every record of a session goes to the partition {@code
 * murmur2(utf8(session)) % partitions}, so a session's records are totally ordered by offset.
 * Reserved records carry Avro writer schemas; they are written to every partition before any record
 * that needs them. Compaction can leave a schema's only remaining copy after older data written
 * with it; a reader that meets such data reads ahead in that partition for the schema, then goes
 * back to the data, so the sink still sees each partition once and in log order. A reserved layout
 * record holds the partition count the topic is used with. The sink never sees reserved records.
 *
 * <p><b>Lifecycle.</b> {@link #start(Consumer)} is idempotent: every call with the same sink
 * returns the same future, a call with another sink throws. {@link #close()} is idempotent and
 * never throws; it fails pending futures, and a {@code start} after it returns a failed future.
 *
 * <p><b>Errors.</b> A bad record or batch is never fatal: an undecodable record, a record of an
 * unknown writer schema, a bad writer-schema record, a record outside its session's partition or of
 * a writer id no node writes, a corrupt batch: each is skipped, counted by {@link SkipReason}
 * ({@link #skippedRecords(SkipReason)}, total in {@link #skippedRecords()}) and logged with topic,
 * partition and offset. Transient errors are retried with back-off and logged. An error no skipping
 * can cure (the partition count differs from the recorded one or changed while running, access was
 * revoked, out of memory) stops the reader loudly: it is logged, reported to the {@link Listener},
 * completes {@link #stopped()} exceptionally, and fails pending futures and every later call
 * ({@link #failureCause()}).
 *
 * <p><b>Threads.</b> All methods are thread-safe. The sink and the listener run on the reader
 * thread. Returned futures are completed on an internal callback thread, never on a Kafka client
 * thread, so dependent stages may block briefly without stalling the clients.
 */
public final class KafkaDeltaLog implements DeltaLog {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaDeltaLog.class);

  /**
   * Why the reader skipped a record: it never reached the sink (or, for {@link #SINK_FAILED}, the
   * sink threw on it). Each skip is counted ({@link #skippedRecords(SkipReason)}) and logged with
   * topic, partition and offset; none stops the reader.
   */
  public enum SkipReason {
    /** A key or value this version cannot decode: random bytes, an unknown key type, truncated. */
    UNDECODABLE,
    /**
     * A value written with a writer schema that is nowhere in its partition up to the end offset (a
     * schema that comes later in the partition is searched for first, and the record applies).
     */
    UNKNOWN_SCHEMA,
    /** A writer-schema record whose value is no Avro schema, or not the one its key names. */
    BAD_SCHEMA_RECORD,
    /** A record of a session outside the session's partition (a mirrored or re-produced topic). */
    WRONG_PARTITION,
    /** A record whose writer id is not {@code memberId#epoch}: no node wrote it. */
    FOREIGN_WRITER,
    /** A record batch the consumer refuses (CRC mismatch): counted once per batch. */
    CORRUPT_BATCH,
    /** The sink threw on the record; this node skipped it. Not in {@link #skippedRecords()}. */
    SINK_FAILED
  }

  /** Hears about the reader: replay progress, and a failure that stopped it. */
  public interface Listener {
    /** Called on the reader thread every progress interval during replay, and once at its end. */
    default void onReplayProgress(ReplayProgress progress) {}

    /** Called on the reader thread when an unrecoverable error stopped the reader. */
    default void onReaderFailed(Throwable cause) {}
  }

  private enum State {
    LATENT,
    STARTED,
    CLOSED
  }

  final LogSettings settings;
  final WriterSchemas writerSchemas = new WriterSchemas();
  final ReadCounters counters = new ReadCounters();

  private final CallbackThread callbacks;
  private final EndOffsetBarrier barrier;
  private final SchemaPublisher schemas;

  /** Completed by the reader when replay is done; failed by a reader error or close. */
  private final CompletableFuture<Void> replayed = new CompletableFuture<>();

  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  private final Object lock = new Object();
  // Guarded by lock; state and appender are also read without it on the hot paths (append,
  // maxStateBytes: every stash calls them, from the caller's thread and the owner thread at once).
  private volatile State state = State.LATENT;
  private Consumer<LogEntry> sink;
  private CompletableFuture<Void> startResult;
  private volatile LogAppender appender;
  private LogReader reader;
  private Thread readerThread;

  private volatile Throwable failure;
  private volatile boolean ready;
  private volatile List<String> topicWarnings = List.of();
  private volatile Clients clients;

  /** The consumer the reader polls: the replay consumer while replaying, then clients' reader. */
  private volatile org.apache.kafka.clients.consumer.Consumer<?, ?> polled;

  private volatile long handoverLag = -1;
  private volatile ReplayProgress lastProgress;
  private final java.util.List<Consumer<Clients>> clientListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  KafkaDeltaLog(LogSettings settings) {
    this.settings = settings;
    this.callbacks = new CallbackThread(settings.topic());
    this.barrier = new EndOffsetBarrier(settings.topic(), settings.requestTimeout(), callbacks);
    this.schemas = new SchemaPublisher(settings.topic(), writerSchemas, callbacks);
    schemas.register(WireFormat.SLOT_STATE_V1);
    schemas.register(WireFormat.SLOT_STATE_V2);
  }

  /**
   * A builder with production defaults; {@link KafkaDeltaLogBuilder#bootstrapServers} is required.
   */
  public static KafkaDeltaLogBuilder builder() {
    return new KafkaDeltaLogBuilder();
  }

  /**
   * Starts the reader thread; see the class documentation. The future completes when replay has
   * reached the end offsets read at start, and completes exceptionally with a {@link
   * KafkaDeltaLogException} if the topic cannot be created, is misconfigured, or cannot be read.
   *
   * <p>Idempotent: a later call with the same sink returns the same future and starts nothing.
   * After {@link #close()} the future is failed.
   *
   * @throws IllegalStateException if called again with a different sink
   */
  @Override
  public CompletableFuture<Void> start(Consumer<LogEntry> sink) {
    Objects.requireNonNull(sink, "sink");
    synchronized (lock) {
      if (this.sink != null && this.sink != sink) {
        throw new IllegalStateException(
            "KafkaDeltaLog for topic '"
                + settings.topic()
                + "' was already started with another sink ("
                + this.sink
                + ")");
      }
      this.sink = sink;
      if (startResult != null) {
        return startResult;
      }
      if (state == State.CLOSED) {
        startResult = CompletableFuture.failedFuture(closedException());
        return startResult;
      }
      state = State.STARTED;
      // A copy, so that a caller completing it cannot complete the log's own replay future.
      startResult = replayed.copy();
      reader = new LogReader(this, sink, barrier, counters);
      readerThread = new Thread(reader::run, "handoff-log-reader-" + settings.topic());
      readerThread.setDaemon(true);
      readerThread.setUncaughtExceptionHandler((t, e) -> readerFailed(e));
      try {
        readerThread.start();
      } catch (Throwable e) { // no thread to be had (out of memory or of native threads)
        readerFailed(e);
      }
      return startResult;
    }
  }

  /**
   * Completes when the reader has stopped for good: normally after {@link #close()}; exceptionally,
   * with a {@link KafkaDeltaLogException} naming the topic and the cause, when an error no skipping
   * can cure stopped it (the topic's partition count changed, access was revoked, the reader ran
   * out of memory, the sink threw an {@link Error}), or when start failed. Completed on the
   * callback thread. A copy: completing it does not complete the log's own.
   */
  @Override
  public CompletableFuture<Void> stopped() {
    return stopped.copy();
  }

  /**
   * Appends a record to the session's partition. Completes with its position once the broker
   * acknowledged it ({@code acks=all}, idempotent producer); completes exceptionally with a {@link
   * KafkaDeltaLogException} naming topic and session if it was not acknowledged, with an {@link
   * IllegalArgumentException} naming session, size and limit if the state is larger than {@link
   * #maxStateBytes()}, or naming the writer if its id is not {@code memberId#epoch} (readers would
   * skip the record; nothing is sent), and with an {@link IllegalStateException} before start or
   * after close. After the reader stopped on an error it fails with that error.
   */
  @Override
  public CompletableFuture<LogPosition> append(SlotRecord record) {
    Objects.requireNonNull(record, "record");
    LogAppender a;
    if (state == State.CLOSED) {
      return CompletableFuture.failedFuture(closedException());
    }
    a = appender;
    if (failure != null) {
      return CompletableFuture.failedFuture(readerFailedException());
    }
    if (a == null) {
      return CompletableFuture.failedFuture(
          new IllegalStateException(
              "KafkaDeltaLog for topic '"
                  + settings.topic()
                  + "' cannot append yet: call start() and let it set up the topic"));
    }
    return a.append(record);
  }

  /**
   * Completes once every record acknowledged before this call has been handed to the sink, by
   * reading to the end offsets fetched after the call (see the class documentation). Called while
   * start is still setting up the topic, it completes after the replay. Completes exceptionally
   * with a {@link KafkaDeltaLogException} if the end offsets cannot be read within the request
   * timeout, the log is closed or its reader failed. Callers that need a tighter bound add one
   * ({@code orTimeout}).
   */
  @Override
  public CompletableFuture<Void> barrier() {
    boolean setUp;
    synchronized (lock) {
      if (state == State.LATENT) {
        return CompletableFuture.failedFuture(
            new IllegalStateException(
                "KafkaDeltaLog for topic '" + settings.topic() + "' is not started"));
      }
      if (state == State.CLOSED) {
        return CompletableFuture.failedFuture(closedException());
      }
      setUp = appender != null;
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(readerFailedException());
    }
    if (!setUp) {
      // Still setting up the topic: a barrier then means "after the replay".
      return replayed.copy().thenCompose(v -> barrier());
    }
    return barrier.await();
  }

  /**
   * The largest application state {@link #append} accepts: the configured {@code maxStateBytes},
   * or, by default, the topic's record limit ({@code max.message.bytes}, capped by the producer's
   * {@code max.request.size}) minus 4 KiB for key and framing. Before start the topic is not known
   * yet and the default assumes Kafka's 1 MiB limit.
   */
  @Override
  public int maxStateBytes() {
    LogAppender a;
    a = appender;
    return a == null ? LogAppender.maxStateBytes(settings, null) : a.maxStateBytes();
  }

  /**
   * The producer's {@code buffer.memory}: the client property if given, else the share of {@link
   * KafkaDeltaLogBuilder#memoryBudget} the log gives it. A node keeps the state bytes it has in
   * flight below this by default, so that an append never waits for room in the buffer.
   */
  @Override
  public long appendBufferBytes() {
    Object given = settings.clientProperties().get("buffer.memory");
    return given != null
        ? ClientBuffers.longValue(given, 32L << 20)
        : ClientBuffers.bufferMemory(settings.memoryBudget(), settings.partitions());
  }

  /** The memory budget of the Kafka clients' buffers, bytes (see the builder). */
  public long memoryBudget() {
    return settings.memoryBudget();
  }

  /**
   * Records (and corrupt batches) the log skipped since start, for every {@link SkipReason} but
   * {@link SkipReason#SINK_FAILED}.
   */
  @Override
  public long skippedRecords() {
    return counters.skippedByTheLog();
  }

  /**
   * Records (for {@link SkipReason#CORRUPT_BATCH}: batches) skipped since start for {@code reason}.
   */
  public long skippedRecords(SkipReason reason) {
    return counters.skipped(Objects.requireNonNull(reason, "reason"));
  }

  /** Records read since start, skipped and reserved ones included. */
  public long recordsRead() {
    return counters.recordsRead();
  }

  /** Key and value bytes read since start. */
  public long bytesRead() {
    return counters.bytesRead();
  }

  /** Records the sink threw on; they were logged and skipped for this node. */
  public long sinkFailures() {
    return counters.sinkFailures();
  }

  /** True once replay reached the end offsets read at start, until the reader stops. */
  public boolean isReady() {
    return ready && failure == null;
  }

  /** The error that stopped the reader, if one did. */
  public Optional<Throwable> failureCause() {
    return Optional.ofNullable(failure);
  }

  /**
   * The topic settings judged risky when this log started (accepted with {@code
   * acceptDataLossRisk}, or judgements such as {@code min.insync.replicas=1} at replication factor
   * 2); each was logged once at WARN. Empty before the topic is set up or when there is none.
   */
  public List<String> topicWarnings() {
    return topicWarnings;
  }

  /** The topic this log reads and writes. */
  public String topic() {
    return settings.topic();
  }

  // ------------------------------------------------------------------ monitoring hooks

  /**
   * The Kafka clients of a started log, handed out for binding their metrics (for example
   * Micrometer's {@code KafkaClientMetrics}). For monitoring only: call nothing on them but {@code
   * metrics()}; the log owns them (the consumer is not thread-safe) and closes them.
   *
   * @param producer the producer that appends
   * @param reader the consumer of the reader thread
   * @param admin the admin client of the barrier and the topic checks
   */
  public record Clients(
      org.apache.kafka.clients.producer.Producer<byte[], byte[]> producer,
      org.apache.kafka.clients.consumer.Consumer<?, ?> reader,
      Admin admin) {}

  /**
   * Calls {@code listener} with the clients once the reader has created them (during {@link
   * #start}), or at once if it has; on the reader thread or the caller's. Returns a handle that
   * removes the listener.
   */
  public AutoCloseable onClients(Consumer<Clients> listener) {
    Objects.requireNonNull(listener, "listener");
    clientListeners.add(listener);
    Clients now = clients;
    if (now != null) {
      listener.accept(now);
    }
    return () -> clientListeners.remove(listener);
  }

  /** The clients, once the reader has created them. */
  public Optional<Clients> clients() {
    return Optional.ofNullable(clients);
  }

  /**
   * Records in the topic the reader has not read yet, summed over the partitions: the reader
   * consumer's {@code records-lag} (while replaying, the replay consumer's), as of its last fetch.
   * -1 before the reader has fetched.
   */
  public long readerLag() {
    long lag = lagOf(polled);
    // Just after the replay consumer handed over, until the steady one has fetched: its lag then.
    return lag < 0 ? handoverLag : lag;
  }

  private long lagOf(org.apache.kafka.clients.consumer.Consumer<?, ?> reader) {
    if (reader == null) {
      return -1;
    }
    // The consumer's fetch metrics tag the topic with '.' replaced by '_'.
    String topicTag = settings.topic().replace('.', '_');
    long lag = 0;
    boolean seen = false;
    for (var e : reader.metrics().entrySet()) {
      var name = e.getKey();
      if (name.name().equals("records-lag")
          && name.group().equals("consumer-fetch-manager-metrics")
          && name.tags().containsKey("partition")
          && topicTag.equals(name.tags().get("topic"))
          && e.getValue().metricValue() instanceof Double d
          && !d.isNaN()) {
        lag += Math.max(0, d.longValue());
        seen = true;
      }
    }
    return seen ? lag : -1;
  }

  /** Replay progress (100 once ready) and {@link #readerLag()}. */
  @Override
  public ReaderProgress readerProgress() {
    double percent = ready ? 100.0 : lastProgress == null ? 0.0 : lastProgress.percent();
    return new ReaderProgress(percent, readerLag());
  }

  /** Called by the reader once its clients exist. */
  void clientsCreated(
      KafkaProducer<byte[], byte[]> producer,
      org.apache.kafka.clients.consumer.Consumer<?, ?> reader,
      Admin admin) {
    var c = new Clients(producer, reader, admin);
    clients = c;
    polled = polled == null ? reader : polled;
    for (var l : clientListeners) {
      try {
        l.accept(c);
      } catch (RuntimeException e) {
        LOG.warn("A clients listener of topic '{}' threw; ignored", settings.topic(), e);
      }
    }
  }

  /** Called by the reader with each replay progress report. */
  void replayProgressed(ReplayProgress progress) {
    lastProgress = progress;
  }

  /**
   * Stops the reader, flushes and closes the clients (waiting up to the request timeout), and fails
   * pending futures with a {@link KafkaDeltaLogException}. Idempotent and never throws; safe to
   * call from the sink.
   */
  @Override
  public void close() {
    LogAppender a;
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      a = appender;
    }
    LogReader r = reader;
    if (r != null) {
      r.stop();
      if (Thread.currentThread() != readerThread) {
        try {
          readerThread.join(settings.requestTimeout().toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        if (readerThread.isAlive()) {
          LOG.warn("Reader thread of topic '{}' did not stop in time", settings.topic());
        }
      }
    }
    if (a != null) {
      a.close(settings.requestTimeout());
    }
    var closed = closedException();
    barrier.close(closed, settings.requestTimeout());
    replayed.completeExceptionally(closed);
    schemas.close(closed);
    // On the callback thread, after a reader failure queued before: that one then stays.
    callbacks.complete(stopped, null);
    callbacks.shutdown();
    LOG.info("Closed delta log on topic '{}'", settings.topic());
  }

  // ---- package-private: used by the reader thread, the appender and AvroStateCodec ----

  /** The partition of a session: murmur2 of its UTF-8 bytes, modulo the partition count. */
  static int partitionFor(String session, int partitions) {
    return Utils.toPositive(Utils.murmur2(session.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /** See {@link SchemaPublisher#register}. */
  CompletableFuture<Void> registerWriterSchema(Schema schema) {
    return schemas.register(schema);
  }

  /**
   * Called by the reader once the topic is set up: hands the producer and the admin client over to
   * the log (which closes them from now on), makes appends and barriers possible, and publishes the
   * writer schemas registered so far. The future completes when they are all acknowledged.
   */
  CompletableFuture<Void> topicReady(
      TopicSetup.Layout layout, KafkaProducer<byte[], byte[]> producer, Admin admin) {
    synchronized (lock) {
      try {
        if (state == State.CLOSED) {
          throw closedException();
        }
        appender = new LogAppender(settings, layout, producer, callbacks);
        topicWarnings = layout.warnings();
      } catch (KafkaDeltaLogException e) {
        producer.close(Duration.ZERO);
        admin.close(Duration.ZERO);
        return CompletableFuture.failedFuture(e);
      }
      barrier.attach(admin, layout.partitions());
    }
    return schemas.publishRegistered(producer, layout.partitions());
  }

  /** Called by the reader when replay reached the end offsets read at start. */
  /** The reader polls {@code consumer} from now on (the replay consumer, then the steady one). */
  void polling(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer) {
    handoverLag = lagOf(polled);
    polled = consumer;
  }

  void markReady() {
    ready = true;
    callbacks.complete(replayed, null);
  }

  /**
   * The reader stopped on an unrecoverable error: fail loudly and stop accepting calls. Only the
   * first call counts. Each step is guarded on its own, so that an error while logging or in the
   * listener (the reader may have run out of memory) cannot leave the futures pending.
   */
  void readerFailed(Throwable cause) {
    synchronized (lock) {
      if (state == State.CLOSED || failure != null) {
        return;
      }
      failure = cause;
    }
    ready = false;
    try {
      LOG.error(
          "Delta log reader of topic '{}' stopped: {}", settings.topic(), cause.toString(), cause);
    } catch (Throwable t) {
      // logging failed too: the futures below still say it
    }
    try {
      settings.listener().onReaderFailed(cause);
    } catch (Throwable t) {
      try {
        LOG.warn("Listener of topic '{}' threw on onReaderFailed", settings.topic(), t);
      } catch (Throwable ignored) {
        // as above
      }
    }
    Throwable e;
    try {
      e = readerFailedException();
    } catch (Throwable t) {
      e = cause;
    }
    failSafely(stopped, e);
    // A misconfigured topic fails start with its own message; anything else names the reader.
    failSafely(replayed, cause instanceof KafkaDeltaLogException k ? k : e);
    try {
      barrier.fail(e);
    } catch (Throwable t) {
      // barrier.fail completes its futures directly; nothing else can be done here
    }
  }

  /**
   * Called by the reader thread as its last act, whatever ended it: if neither close() nor a
   * reported failure explains it, the log stops with an error now.
   */
  void readerExited() {
    boolean unexplained;
    synchronized (lock) {
      unexplained = state != State.CLOSED && failure == null;
    }
    if (unexplained) {
      readerFailed(
          new KafkaDeltaLogException(
              "The reader thread of topic '" + settings.topic() + "' ended without an error"));
    }
  }

  /** Fails {@code f} on the callback thread, or here if that thread cannot take it. */
  private void failSafely(CompletableFuture<?> f, Throwable error) {
    try {
      callbacks.fail(f, error);
    } catch (Throwable t) {
      f.completeExceptionally(error);
    }
  }

  private KafkaDeltaLogException closedException() {
    return new KafkaDeltaLogException(
        "KafkaDeltaLog for topic '" + settings.topic() + "' is closed");
  }

  private KafkaDeltaLogException readerFailedException() {
    return new KafkaDeltaLogException(
        "The reader of topic '" + settings.topic() + "' stopped on an error: " + failure, failure);
  }
}
