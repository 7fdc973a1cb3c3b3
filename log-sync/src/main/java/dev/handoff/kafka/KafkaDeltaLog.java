package dev.handoff.kafka;

import dev.handoff.spi.DeltaLog;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.LogPosition;
import dev.handoff.spi.SlotRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link DeltaLog} over one compacted Kafka topic, with plain Kafka clients (no Kafka Streams).
 *
 * <p><b>Protocol.</b> On {@link #start(Consumer)} a single reader thread creates the topic if it is
 * missing (or checks that an existing one is {@code cleanup.policy=compact} only), publishes this
 * node's Avro writer schemas, assigns itself every partition (no consumer group), seeks to the
 * beginning, reads the end offsets, and hands every record to the sink until its position in every
 * partition has reached those end offsets; then the start future completes. It keeps reading after
 * that. {@link #barrier()} uses the same rule ("read to end", as Kafka Connect's {@code
 * KafkaBasedLog} does): it reads the end offsets (high watermarks, via the admin client's {@code
 * ListOffsets} with {@code latest}) after the call starts, and completes once the reader's position
 * in every partition has reached them. An append acknowledged with {@code acks=all} lies below the
 * high watermark, so every record acknowledged before the call has then reached the sink. The
 * reader publishes its positions after handing each batch to the sink, so a barrier never needs to
 * wake or block the reader thread.
 *
 * <p><b>Records.</b> The key is the slot (session, writer) in a small versioned binary format; the
 * value is the {@link dev.handoff.spi.SlotState} in Avro single-object encoding, or {@code null} (a
 * Kafka tombstone) when the slot is removed. Every record of a session goes to the partition {@code
 * murmur2(utf8(session)) % partitions}, so a session's records are totally ordered by offset.
 * Reserved records carry Avro writer schemas; they are written to every partition before any record
 * that needs them, so every reader learns a schema before the data written with it. The sink never
 * sees them.
 *
 * <p><b>Errors.</b> An undecodable record is skipped, counted ({@link #skippedRecords()}) and
 * logged once with topic, partition and offset. Transient poll errors are retried with back-off and
 * logged; any other reader error stops the reader loudly: it is logged, reported to the {@link
 * Listener}, fails pending futures and every later call ({@link #failureCause()}).
 *
 * <p><b>Threads.</b> All methods are thread-safe. The sink and the listener run on the reader
 * thread. Returned futures are completed on an internal callback thread, never on a Kafka client
 * thread, so dependent stages may block briefly without stalling the clients.
 */
public final class KafkaDeltaLog implements DeltaLog {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaDeltaLog.class);
  private static final int DEFAULT_RECORD_LIMIT = 1048576;
  private static final int RECORD_OVERHEAD = 128;

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
  final WireFormat wire = new WireFormat(writerSchemas);
  final AtomicLong recordsRead = new AtomicLong();
  final AtomicLong bytesRead = new AtomicLong();
  final AtomicLong skipped = new AtomicLong();
  final AtomicLong sinkFailures = new AtomicLong();
  final CompletableFuture<Void> started = new CompletableFuture<>();

  private final ExecutorService callbacks;
  private final Object lock = new Object();
  private final Object barrierLock = new Object();
  private List<CompletableFuture<Void>> barriersWaiting = new ArrayList<>();
  private boolean barrierLookupInFlight;
  // Guarded by lock.
  private State state = State.LATENT;
  private final Map<Long, CompletableFuture<Void>> schemaPublications = new HashMap<>();
  private final List<Schema> unpublishedSchemas = new ArrayList<>();
  private KafkaProducer<byte[], byte[]> producer;
  private Admin admin;
  private TopicSetup.Layout layout;

  private volatile Throwable failure;
  private volatile boolean ready;
  private LogReader reader;
  private Thread readerThread;

  private KafkaDeltaLog(LogSettings settings) {
    this.settings = settings;
    this.callbacks =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "handoff-log-callbacks-" + settings.topic());
              t.setDaemon(true);
              return t;
            });
    writerSchemas.add(WireFormat.SLOT_STATE_V1);
    schemaPublications.put(WireFormat.V1_FINGERPRINT, new CompletableFuture<>());
    unpublishedSchemas.add(WireFormat.SLOT_STATE_V1);
  }

  /** A builder with production defaults; {@link Builder#bootstrapServers} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the reader thread; see the class documentation. The future completes when replay has
   * reached the end offsets read at start, and completes exceptionally with a {@link
   * KafkaDeltaLogException} if the topic cannot be created, is misconfigured, or cannot be read.
   *
   * @throws IllegalStateException if called more than once or after {@link #close()}
   */
  @Override
  public CompletableFuture<Void> start(Consumer<LogEntry> sink) {
    Objects.requireNonNull(sink, "sink");
    synchronized (lock) {
      if (state != State.LATENT) {
        throw new IllegalStateException(
            "KafkaDeltaLog for topic '" + settings.topic() + "' was already started or closed");
      }
      state = State.STARTED;
      reader = new LogReader(this, sink);
      readerThread = new Thread(reader::run, "handoff-log-reader-" + settings.topic());
      readerThread.setDaemon(true);
      readerThread.setUncaughtExceptionHandler(
          (t, e) -> LOG.error("Reader thread of topic '{}' died", settings.topic(), e));
      readerThread.start();
    }
    return started.copy();
  }

  /**
   * Appends a record to the session's partition. Completes with its position once the broker
   * acknowledged it ({@code acks=all}, idempotent producer); completes exceptionally with a {@link
   * KafkaDeltaLogException} naming topic and session if it was not acknowledged, with an {@link
   * IllegalArgumentException} naming session, size and limit if the state is larger than {@link
   * #maxStateBytes()} (nothing is sent), and with an {@link IllegalStateException} before start or
   * after close.
   */
  @Override
  public CompletableFuture<LogPosition> append(SlotRecord record) {
    Objects.requireNonNull(record, "record");
    KafkaProducer<byte[], byte[]> p;
    TopicSetup.Layout l;
    synchronized (lock) {
      p = producer;
      l = layout;
      if (state == State.CLOSED) {
        return CompletableFuture.failedFuture(closedException());
      }
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(readerFailedException());
    }
    if (p == null || l == null) {
      return CompletableFuture.failedFuture(
          new IllegalStateException(
              "KafkaDeltaLog for topic '"
                  + settings.topic()
                  + "' cannot append yet: call start() and let it set up the topic"));
    }
    byte[] key = LogKey.slot(record.session(), record.writer());
    byte[] value = record.isTombstone() ? null : WireFormat.encode(record.state());
    int stateBytes =
        record.isTombstone() || record.state().ended() ? 0 : record.state().value().length;
    int limit = maxStateBytes();
    if (stateBytes > limit) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "State of session '"
                  + record.session()
                  + "' is "
                  + stateBytes
                  + " bytes, over the limit of "
                  + limit
                  + " bytes (maxStateBytes of topic '"
                  + settings.topic()
                  + "'); nothing was sent"));
    }
    int recordBytes = key.length + (value == null ? 0 : value.length) + RECORD_OVERHEAD;
    if (recordBytes > recordLimit(l)) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "Record of session '"
                  + record.session()
                  + "' (writer '"
                  + record.writer()
                  + "') would be "
                  + recordBytes
                  + " bytes with its key, over the record limit of "
                  + recordLimit(l)
                  + " bytes of topic '"
                  + settings.topic()
                  + "'; nothing was sent"));
    }
    int partition = partitionFor(record.session(), l.partitions());
    var result = new CompletableFuture<LogPosition>();
    try {
      p.send(
          new ProducerRecord<>(settings.topic(), partition, key, value),
          (metadata, error) -> {
            if (error == null) {
              completeLater(result, new LogPosition(metadata.partition(), metadata.offset()));
            } else {
              failLater(result, appendFailed(record, partition, error));
            }
          });
    } catch (KafkaException | IllegalStateException e) {
      result.completeExceptionally(appendFailed(record, partition, e));
    }
    return result;
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
    Admin a;
    TopicSetup.Layout l;
    synchronized (lock) {
      if (state == State.LATENT) {
        return CompletableFuture.failedFuture(
            new IllegalStateException(
                "KafkaDeltaLog for topic '" + settings.topic() + "' is not started"));
      }
      if (state == State.CLOSED) {
        return CompletableFuture.failedFuture(closedException());
      }
      a = admin;
      l = layout;
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(readerFailedException());
    }
    if (a == null) {
      // Still setting up the topic: a barrier then means "after the replay".
      return started.copy().thenCompose(v -> barrier());
    }
    // Group commit: barriers that arrive while an end-offset lookup is in flight share the next
    // lookup, which is sent after all of them were called, so each still reads offsets fetched
    // after it started. Under a burst of pickups this is one admin round trip, not one per call.
    var f = new CompletableFuture<Void>();
    boolean issue;
    synchronized (barrierLock) {
      barriersWaiting.add(f);
      issue = !barrierLookupInFlight;
      barrierLookupInFlight = true;
    }
    if (issue) {
      lookUpEndOffsets(a, l);
    }
    return f;
  }

  private void lookUpEndOffsets(Admin a, TopicSetup.Layout l) {
    List<CompletableFuture<Void>> batch;
    synchronized (barrierLock) {
      batch = barriersWaiting;
      barriersWaiting = new ArrayList<>();
    }
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < l.partitions(); p++) {
      latest.put(new TopicPartition(settings.topic(), p), OffsetSpec.latest());
    }
    try {
      a.listOffsets(
              latest,
              new ListOffsetsOptions().timeoutMs((int) settings.requestTimeout().toMillis()))
          .all()
          .whenComplete(
              (offsets, error) -> {
                if (error != null) {
                  var e =
                      new KafkaDeltaLogException(
                          "Barrier on topic '"
                              + settings.topic()
                              + "' could not read the end offsets: "
                              + error,
                          error);
                  batch.forEach(f -> failLater(f, e));
                } else {
                  long[] ends = new long[l.partitions()];
                  offsets.forEach((tp, info) -> ends[tp.partition()] = info.offset());
                  batch.forEach(f -> reader.awaitPosition(ends, f));
                }
                nextBarrierLookup(a, l);
              });
    } catch (KafkaException | IllegalStateException e) {
      var error =
          new KafkaDeltaLogException(
              "Barrier on topic '" + settings.topic() + "' could not read the end offsets: " + e,
              e);
      batch.forEach(f -> f.completeExceptionally(error));
      nextBarrierLookup(a, l);
    }
  }

  private void nextBarrierLookup(Admin a, TopicSetup.Layout l) {
    boolean more;
    synchronized (barrierLock) {
      more = !barriersWaiting.isEmpty();
      barrierLookupInFlight = more;
    }
    if (more) {
      lookUpEndOffsets(a, l);
    }
  }

  /**
   * The largest application state {@link #append} accepts: the configured {@code maxStateBytes},
   * or, by default, the topic's record limit ({@code max.message.bytes}, capped by the producer's
   * {@code max.request.size}) minus 4 KiB for key and framing. Before start the topic is not known
   * yet and the default assumes Kafka's 1 MiB limit.
   */
  @Override
  public int maxStateBytes() {
    TopicSetup.Layout l;
    synchronized (lock) {
      l = layout;
    }
    if (settings.maxStateBytesSet()) {
      return settings.maxStateBytes();
    }
    int limit =
        l == null ? Math.min(DEFAULT_RECORD_LIMIT, settings.maxRequestSize()) : recordLimit(l);
    return limit - LogSettings.FRAMING_RESERVE;
  }

  /** Records skipped as undecodable since start (bad key, bad value, unknown wire schema). */
  @Override
  public long skippedRecords() {
    return skipped.get();
  }

  /** Records read since start, skipped and reserved ones included. */
  public long recordsRead() {
    return recordsRead.get();
  }

  /** Key and value bytes read since start. */
  public long bytesRead() {
    return bytesRead.get();
  }

  /** Records the sink threw on; they were logged and skipped for this node. */
  public long sinkFailures() {
    return sinkFailures.get();
  }

  /** True once replay reached the end offsets read at start. */
  public boolean isReady() {
    return ready;
  }

  /** The error that stopped the reader, if one did. */
  public Optional<Throwable> failureCause() {
    return Optional.ofNullable(failure);
  }

  /** The topic this log reads and writes. */
  public String topic() {
    return settings.topic();
  }

  /**
   * Stops the reader, flushes and closes the clients (waiting up to the request timeout), and fails
   * pending futures with a {@link KafkaDeltaLogException}. Idempotent; safe to call from the sink.
   */
  @Override
  public void close() {
    KafkaProducer<byte[], byte[]> p;
    Admin a;
    synchronized (lock) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      p = producer;
      a = admin;
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
    if (p != null) {
      p.close(settings.requestTimeout());
    }
    if (a != null) {
      a.close(settings.requestTimeout());
    }
    var closed = closedException();
    started.completeExceptionally(closed);
    failAllBarriers(closed);
    synchronized (lock) {
      schemaPublications.values().forEach(f -> f.completeExceptionally(closed));
    }
    callbacks.shutdown();
    try {
      callbacks.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.info("Closed delta log on topic '{}'", settings.topic());
  }

  // ---- package-private: used by the reader thread and AvroStateCodec ----

  /** The partition of a session: murmur2 of its UTF-8 bytes, modulo the partition count. */
  static int partitionFor(String session, int partitions) {
    return Utils.toPositive(Utils.murmur2(session.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  /**
   * Makes a writer schema known locally at once and publishes it to every partition of the topic;
   * the future completes when all those records are acknowledged. Before start the publication
   * happens during start, which waits for it.
   */
  CompletableFuture<Void> registerWriterSchema(Schema schema) {
    writerSchemas.add(schema);
    long fp = SingleObject.fingerprint(schema);
    KafkaProducer<byte[], byte[]> p;
    TopicSetup.Layout l;
    CompletableFuture<Void> f;
    synchronized (lock) {
      CompletableFuture<Void> existing = schemaPublications.get(fp);
      if (existing != null) {
        return existing.copy();
      }
      if (state == State.CLOSED) {
        return CompletableFuture.failedFuture(closedException());
      }
      f = new CompletableFuture<>();
      schemaPublications.put(fp, f);
      p = producer;
      l = layout;
      if (p == null) {
        unpublishedSchemas.add(schema);
        return f.copy();
      }
    }
    publishToAllPartitions(p, l, schema).whenComplete((v, e) -> settle(f, e));
    return f.copy();
  }

  /**
   * Called by the reader once the topic is set up: makes appends possible and publishes the writer
   * schemas registered so far. Returns when they are all acknowledged.
   */
  CompletableFuture<Void> topicReady(
      TopicSetup.Layout l, KafkaProducer<byte[], byte[]> p, Admin a) {
    List<CompletableFuture<Void>> publications = new ArrayList<>();
    synchronized (lock) {
      if (state == State.CLOSED) {
        p.close(Duration.ZERO);
        a.close(Duration.ZERO);
        return CompletableFuture.failedFuture(closedException());
      }
      if (settings.maxStateBytesSet()
          && settings.maxStateBytes() > recordLimit(l) - LogSettings.FRAMING_RESERVE) {
        p.close(Duration.ZERO);
        a.close(Duration.ZERO);
        return CompletableFuture.failedFuture(
            new KafkaDeltaLogException(
                "maxStateBytes="
                    + settings.maxStateBytes()
                    + " is more than topic '"
                    + settings.topic()
                    + "' accepts: max.message.bytes="
                    + l.maxMessageBytes()
                    + " and producer max.request.size="
                    + settings.maxRequestSize()
                    + ", minus "
                    + LogSettings.FRAMING_RESERVE
                    + " bytes for key and framing. Raise both or lower maxStateBytes."));
      }
      layout = l;
      producer = p;
      admin = a;
      List<Schema> toPublish = new ArrayList<>(unpublishedSchemas);
      unpublishedSchemas.clear();
      for (Schema s : toPublish) {
        var f = schemaPublications.get(SingleObject.fingerprint(s));
        publications.add(publishToAllPartitions(p, l, s).whenComplete((v, e) -> settle(f, e)));
      }
    }
    return CompletableFuture.allOf(publications.toArray(CompletableFuture[]::new));
  }

  void markReady() {
    ready = true;
    completeLater(started, null);
  }

  /** The reader stopped on an unrecoverable error: fail loudly and stop accepting calls. */
  void readerFailed(Throwable cause) {
    boolean closing;
    synchronized (lock) {
      closing = state == State.CLOSED;
    }
    if (closing) {
      return;
    }
    failure = cause;
    LOG.error(
        "Delta log reader of topic '{}' stopped: {}", settings.topic(), cause.toString(), cause);
    try {
      settings.listener().onReaderFailed(cause);
    } catch (RuntimeException le) {
      LOG.warn("Listener of topic '{}' threw on onReaderFailed", settings.topic(), le);
    }
    var e = readerFailedException();
    // A misconfigured topic fails start with its own message; anything else names the reader.
    started.completeExceptionally(cause instanceof KafkaDeltaLogException k ? k : e);
    failAllBarriers(e);
  }

  void completeLater(CompletableFuture<?> f, Object value) {
    @SuppressWarnings("unchecked")
    var cf = (CompletableFuture<Object>) f;
    try {
      callbacks.execute(() -> cf.complete(value));
    } catch (RejectedExecutionException e) {
      cf.complete(value);
    }
  }

  void failLater(CompletableFuture<?> f, Throwable error) {
    try {
      callbacks.execute(() -> f.completeExceptionally(error));
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(error);
    }
  }

  // ---- private ----

  private CompletableFuture<Void> publishToAllPartitions(
      KafkaProducer<byte[], byte[]> p, TopicSetup.Layout l, Schema schema) {
    long fp = SingleObject.fingerprint(schema);
    byte[] key = LogKey.writerSchema(fp);
    byte[] value = WriterSchemas.encodeValue(schema);
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (int partition = 0; partition < l.partitions(); partition++) {
      var ack = new CompletableFuture<Void>();
      acks.add(ack);
      int part = partition;
      try {
        p.send(
            new ProducerRecord<>(settings.topic(), partition, key, value),
            (md, e) -> {
              if (e == null) {
                ack.complete(null);
              } else {
                ack.completeExceptionally(
                    new KafkaDeltaLogException(
                        String.format(
                            "Could not publish writer schema %016x (%s) to topic '%s' partition"
                                + " %d: %s",
                            fp, schema.getFullName(), settings.topic(), part, e),
                        e));
              }
            });
      } catch (KafkaException | IllegalStateException e) {
        ack.completeExceptionally(e);
      }
    }
    return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
  }

  private void settle(CompletableFuture<Void> f, Throwable e) {
    if (e == null) {
      completeLater(f, null);
    } else {
      failLater(f, e instanceof java.util.concurrent.CompletionException ? e.getCause() : e);
    }
  }

  private int recordLimit(TopicSetup.Layout l) {
    return Math.min(l.maxMessageBytes(), settings.maxRequestSize());
  }

  private void failAllBarriers(Throwable e) {
    LogReader r = reader;
    if (r != null) {
      r.failWaitingBarriers(e);
    }
  }

  private KafkaDeltaLogException appendFailed(SlotRecord record, int partition, Throwable e) {
    return new KafkaDeltaLogException(
        "Append to topic '"
            + settings.topic()
            + "' partition "
            + partition
            + " was not acknowledged for session '"
            + record.session()
            + "' (writer '"
            + record.writer()
            + "'): "
            + e,
        e);
  }

  private KafkaDeltaLogException closedException() {
    return new KafkaDeltaLogException(
        "KafkaDeltaLog for topic '" + settings.topic() + "' is closed");
  }

  private KafkaDeltaLogException readerFailedException() {
    return new KafkaDeltaLogException(
        "The reader of topic '" + settings.topic() + "' stopped on an error: " + failure, failure);
  }

  /**
   * Options of a {@link KafkaDeltaLog}. Every setter validates its argument at once and names the
   * option in its error message.
   */
  public static final class Builder {
    private String bootstrapServers;
    private String topic = "handoff-sessions";
    private int partitions = 12;
    private short replicationFactor = 3;
    private Integer minInSyncReplicas;
    private Duration minCompactionLag = Duration.ZERO;
    private Duration segmentTime = Duration.ofHours(1);
    private int segmentBytes = 64 * 1024 * 1024;
    private final Map<String, String> topicConfigs = new LinkedHashMap<>();
    private final Map<String, Object> clientProperties = new LinkedHashMap<>();
    private Integer maxStateBytes;
    private Duration progressInterval = Duration.ofSeconds(5);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Listener listener = new Listener() {};

    private Builder() {}

    /** Kafka's {@code bootstrap.servers}. Required (here or as a client property). */
    public Builder bootstrapServers(String servers) {
      this.bootstrapServers = requireText(servers, "bootstrapServers");
      return this;
    }

    /** The topic; default {@code handoff-sessions}. */
    public Builder topic(String topic) {
      this.topic = requireText(topic, "topic");
      return this;
    }

    /**
     * Partitions of a topic this log creates; default 12. An existing topic keeps its count. Never
     * add partitions to a topic in use: a session's partition is its hash modulo the count.
     */
    public Builder partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /** Replication factor of a topic this log creates; default 3. */
    public Builder replicationFactor(int replicationFactor) {
      if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
        throw new IllegalArgumentException(
            "replicationFactor must be >= 1, was " + replicationFactor);
      }
      this.replicationFactor = (short) replicationFactor;
      return this;
    }

    /**
     * {@code min.insync.replicas} of a topic this log creates; default {@code min(2,
     * replicationFactor)}, so an acknowledged append survives the loss of one broker.
     */
    public Builder minInSyncReplicas(int replicas) {
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
    public Builder minCompactionLag(Duration lag) {
      this.minCompactionLag = requireNonNegative(lag, "minCompactionLag");
      return this;
    }

    /**
     * {@code segment.ms} of a topic this log creates; default 1 hour (Kafka's 7 days would keep the
     * active segment, which is never compacted, for a week).
     */
    public Builder segmentTime(Duration segmentTime) {
      this.segmentTime = requireNonNegative(segmentTime, "segmentTime");
      if (segmentTime.isZero()) {
        throw new IllegalArgumentException("segmentTime must be > 0");
      }
      return this;
    }

    /** {@code segment.bytes} of a topic this log creates; default 64 MiB. */
    public Builder segmentBytes(int segmentBytes) {
      if (segmentBytes < 14) {
        throw new IllegalArgumentException("segmentBytes must be >= 14, was " + segmentBytes);
      }
      this.segmentBytes = segmentBytes;
      return this;
    }

    /**
     * Any other topic config for a topic this log creates (for example {@code
     * min.cleanable.dirty.ratio}, {@code delete.retention.ms}, {@code max.message.bytes}). {@code
     * cleanup.policy} can only be {@code compact}.
     */
    public Builder topicConfig(String key, String value) {
      requireText(key, "topicConfig key");
      Objects.requireNonNull(value, "topicConfig value for '" + key + "'");
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
     * client.id}, {@code compression.type}). A property that only some kinds of client know goes to
     * those. The log refuses properties that would weaken its guarantees ({@code acks} other than
     * {@code all}, {@code enable.idempotence=false}, {@code group.id}, serializers).
     */
    public Builder clientProperty(String key, Object value) {
      requireText(key, "clientProperty key");
      Objects.requireNonNull(value, "clientProperty value for '" + key + "'");
      Map<String, Object> one = Map.of(key, value);
      ClientConfigs.validate(one);
      clientProperties.put(key, value);
      return this;
    }

    /** Adds every entry as by {@link #clientProperty}. */
    public Builder clientProperties(Map<String, ?> properties) {
      properties.forEach(this::clientProperty);
      return this;
    }

    /**
     * The largest state {@link KafkaDeltaLog#append} accepts; default: the topic's record limit
     * minus 4 KiB. Start fails if the topic cannot carry states this large.
     */
    public Builder maxStateBytes(int maxStateBytes) {
      if (maxStateBytes < 1) {
        throw new IllegalArgumentException("maxStateBytes must be >= 1, was " + maxStateBytes);
      }
      this.maxStateBytes = maxStateBytes;
      return this;
    }

    /** How often replay progress is reported to the listener and the log; default 5 s. */
    public Builder progressInterval(Duration interval) {
      this.progressInterval = requireNonNegative(interval, "progressInterval");
      return this;
    }

    /**
     * Bound on each admin request and end-offset lookup during start and barriers, and on close;
     * default 30 s.
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = requireNonNegative(timeout, "requestTimeout");
      if (timeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be > 0");
      }
      return this;
    }

    /** Receives replay progress and reader failures, on the reader thread. */
    public Builder listener(Listener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the log; nothing connects until {@link KafkaDeltaLog#start}.
     *
     * @throws IllegalArgumentException if bootstrap servers are missing or options conflict
     */
    public KafkaDeltaLog build() {
      String servers = bootstrapServers;
      Object fromProps = clientProperties.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
      if (servers == null && fromProps != null) {
        servers = fromProps.toString();
      }
      if (servers == null) {
        throw new IllegalArgumentException(
            "bootstrapServers is required (or the client property bootstrap.servers)");
      }
      int minIsr = minInSyncReplicas == null ? Math.min(2, replicationFactor) : minInSyncReplicas;
      if (minIsr > replicationFactor) {
        throw new IllegalArgumentException(
            "minInSyncReplicas="
                + minIsr
                + " is more than replicationFactor="
                + replicationFactor
                + ": no append could ever be acknowledged");
      }
      Map<String, String> configs = new LinkedHashMap<>();
      configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minIsr));
      configs.put(
          TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Long.toString(minCompactionLag.toMillis()));
      configs.put(TopicConfig.SEGMENT_MS_CONFIG, Long.toString(segmentTime.toMillis()));
      configs.put(TopicConfig.SEGMENT_BYTES_CONFIG, Integer.toString(segmentBytes));
      configs.putAll(topicConfigs);
      return new KafkaDeltaLog(
          new LogSettings(
              servers,
              topic,
              partitions,
              replicationFactor,
              Map.copyOf(configs),
              Map.copyOf(clientProperties),
              maxStateBytes == null ? 0 : maxStateBytes,
              maxStateBytes != null,
              progressInterval,
              requestTimeout,
              listener));
    }

    private static String requireText(String s, String option) {
      if (s == null || s.isBlank()) {
        throw new IllegalArgumentException(option + " must not be null or blank");
      }
      return s;
    }

    private static Duration requireNonNegative(Duration d, String option) {
      Objects.requireNonNull(d, option);
      if (d.isNegative()) {
        throw new IllegalArgumentException(option + " must not be negative, was " + d);
      }
      return d;
    }
  }
}
