package dev.handoff.kafka;

import dev.handoff.kafka.KafkaDeltaLog.SkipReason;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reader thread of a {@link KafkaDeltaLog}: sets up the topic, then owns the consumer, replays
 * the topic and follows it, and publishes its positions to the {@link EndOffsetBarrier} after each
 * batch. What it does with each record goes to a {@link ReadRecorder}. Nothing else touches the
 * consumers, except {@link KafkaConsumer#wakeup()}, which is thread-safe.
 *
 * <p>The replay is read by a consumer of its own with bulk-read settings ({@link
 * ClientBuffers#replayConsumer()}); once the end offsets taken at start are reached, just before
 * the log is ready, its positions are handed over to the long-lived consumer with the steady
 * settings (assign and seek to the same next offsets, so no record is skipped or read twice) and it
 * is closed. When both would get the same settings, the long-lived consumer replays too.
 *
 * <p>A bad record or batch is skipped and counted ({@link SkipReason}); an error that no skipping
 * can cure (the partition layout changed, access revoked, out of memory) ends the thread through
 * {@link KafkaDeltaLog#readerFailed}, on every path out of {@link #run()}.
 */
final class LogReader {

  private static final Logger LOG = LoggerFactory.getLogger(LogReader.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
  private static final long MAX_BACKOFF_MS = 5000;
  // Skipped records of one reason logged at WARN: the first few, then every thousandth.
  private static final long WARN_FIRST = 10;
  private static final long WARN_EVERY = 1000;

  /** Thrown inside the reader to unwind when the log is closing. */
  private static final class Stopping extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stopping() {
      super(null, null, false, false);
    }
  }

  private final KafkaDeltaLog log;
  private final LogSettings settings;
  private final WireFormat wire;
  private final WriterSchemas writerSchemas;
  private final Consumer<LogEntry> sink;
  private final EndOffsetBarrier barrier;
  private final ReadRecorder recorder;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final long[] skipsLogged = new long[SkipReason.values().length];

  /** When each step of the set-up ended (for the DEBUG line): topic checks began, ended, ... */
  private final long[] setupNanos = new long[5];

  private volatile boolean stopping;

  /** Positions after the last records handed to the sink, by partition; also given to barriers. */
  private long[] positions;

  private volatile Admin admin;

  /** The consumer being polled: the replay consumer until ready, then {@link #tailing}. */
  private volatile KafkaConsumer<ByteBuffer, ByteBuffer> consumer;

  /** The long-lived consumer with the steady settings (the one the monitoring hooks see). */
  private volatile KafkaConsumer<ByteBuffer, ByteBuffer> tailing;

  /** The replay consumer while it is open, else null. */
  private volatile KafkaConsumer<ByteBuffer, ByteBuffer> replay;

  private KafkaProducer<byte[], byte[]> producer;

  private List<TopicPartition> partitions;
  private PartitionLayout layout;
  private CorruptBatches corruptBatches;
  private SchemaRewinds rewinds;

  /** Per partition, the offset below which every record was counted as read (rewinds re-read). */
  private long[] counted;

  private long[] beginning;
  private long[] startEnd;
  private KafkaFuture<Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo>> earliestAsked;
  private KafkaFuture<Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo>> latestAsked;
  private long replayStartNanos;
  private long lastReportNanos;
  // What replay progress reports: every record read since start, and its key and value bytes.
  private long replayRecords;
  private long replayBytes;
  private HeapFit heapFit;
  private boolean replaying = true;

  LogReader(
      KafkaDeltaLog log, Consumer<LogEntry> sink, EndOffsetBarrier barrier, ReadRecorder recorder) {
    this.log = log;
    this.settings = log.settings;
    this.writerSchemas = log.writerSchemas;
    this.wire = new WireFormat(writerSchemas);
    this.sink = sink;
    this.barrier = barrier;
    this.recorder = recorder;
  }

  void stop() {
    stopping = true;
    stopSignal.countDown();
    Admin a = admin;
    if (a != null) {
      a.close(Duration.ZERO);
    }
    KafkaConsumer<ByteBuffer, ByteBuffer> r = replay;
    if (r != null) {
      r.wakeup();
    }
    KafkaConsumer<ByteBuffer, ByteBuffer> t = tailing;
    if (t != null) {
      t.wakeup();
    }
  }

  void run() {
    String topic = settings.topic();
    setupNanos[4] = System.nanoTime();
    try {
      Admin a =
          Admin.create(
              ClientConfigs.admin(
                  settings.clientProperties(),
                  settings.bootstrapServers(),
                  settings.clientIdSuffix("admin")));
      admin = a;
      TopicSetup.Layout setUp;
      KafkaProducer<byte[], byte[]> p;
      Map<String, Object> producerConfig;
      ClientBuffers buffers;
      try {
        checkStopping();
        setupNanos[0] = System.nanoTime();
        setUp = TopicSetup.ensure(a, settings);
        setupNanos[1] = System.nanoTime();
        checkStopping();
        partitions = new ArrayList<>();
        for (int i = 0; i < setUp.partitions(); i++) {
          partitions.add(new TopicPartition(topic, i));
        }
        // The replay's offsets are asked for now, answered while the clients are created.
        earliestAsked = a.listOffsets(specs(OffsetSpec.earliest())).all();
        latestAsked = a.listOffsets(specs(OffsetSpec.latest())).all();
        buffers = settings.clientBuffers(setUp.partitions());
        producerConfig =
            ClientConfigs.producer(
                settings.clientProperties(),
                settings.bootstrapServers(),
                settings.clientIdSuffix("producer"),
                buffers);
        p = new KafkaProducer<>(producerConfig);
        setupNanos[2] = System.nanoTime();
      } catch (Throwable t) {
        a.close(Duration.ZERO);
        throw t;
      } finally {
        admin = null;
      }
      // From here the log owns (and closes) the admin client and the producer. The writer schemas
      // are published while the replay runs (other writers' schemas precede their data in the
      // topic; ours only have to precede our own writes): ready waits for both.
      producer = p;
      CompletableFuture<Void> published = log.topicReady(setUp, p, a);
      layout = new PartitionLayout(topic, setUp.partitions(), a, settings.requestTimeout());
      Map<String, Object> consumerConfig =
          ClientConfigs.consumer(
              settings.clientProperties(),
              settings.bootstrapServers(),
              settings.clientIdSuffix("reader"),
              buffers);
      Map<String, Object> replayConfig =
          ClientConfigs.replayConsumer(
              settings.clientProperties(),
              settings.bootstrapServers(),
              settings.clientIdSuffix("replay"),
              buffers);
      tailing = new KafkaConsumer<>(consumerConfig);
      consumer = tailing;
      if (!sameFetchSettings(consumerConfig, replayConfig)) {
        replay = new KafkaConsumer<>(replayConfig);
        consumer = replay;
        log.polling(replay);
      }
      checkStopping(); // stop() may have missed a consumer created meanwhile
      log.clientsCreated(p, tailing, a);
      setupNanos[3] = System.nanoTime();
      // While replaying, the replay consumer's buffers; then the steady ones (at most as large).
      long clientBytes =
          Math.max(
              ClientBuffers.effectiveBytes(producerConfig, consumerConfig, setUp.partitions()),
              ClientBuffers.effectiveBytes(producerConfig, replayConfig, setUp.partitions()));
      warnIfOverBudget(
          buffers,
          ClientBuffers.effectiveBytes(producerConfig, consumerConfig, setUp.partitions()),
          producerConfig,
          consumerConfig);
      heapFit =
          new HeapFit(topic, Runtime.getRuntime().maxMemory(), clientBytes, settings.heapCheck());
      checkStopping();
      corruptBatches = new CorruptBatches(topic, settings.requestTimeout(), this::checkStopping);
      rewinds = new SchemaRewinds(partitions.size());
      counted = new long[partitions.size()];
      replayAndFollow(published);
    } catch (Stopping e) {
      if (!stopping) {
        // Only an interrupt from outside unwinds like this without close().
        log.readerFailed(
            new KafkaDeltaLogException(
                "The reader thread of topic '" + topic + "' was interrupted"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (!stopping) {
        log.readerFailed(e);
      }
    } catch (Throwable t) {
      if (!stopping) {
        log.readerFailed(t instanceof ExecutionException ? t.getCause() : t);
      }
    } finally {
      consumer = null;
      closeReplayConsumer();
      KafkaConsumer<ByteBuffer, ByteBuffer> c = tailing;
      tailing = null;
      if (c != null) {
        try {
          c.close();
        } catch (RuntimeException e) {
          LOG.debug("Error closing the consumer of topic '{}'", topic, e);
        }
      }
      // Whatever happened above (even an error while reporting an error), the log hears of it.
      log.readerExited();
    }
  }

  private void replayAndFollow(CompletableFuture<Void> published)
      throws InterruptedException, ExecutionException {
    KafkaConsumer<ByteBuffer, ByteBuffer> c = consumer;
    c.assign(partitions);
    beginning =
        answered(
            earliestAsked,
            () -> retrying(() -> c.beginningOffsets(partitions, settings.requestTimeout())));
    startEnd =
        answered(
            latestAsked, () -> retrying(() -> c.endOffsets(partitions, settings.requestTimeout())));
    // Seeking to the offsets known spares the consumer looking them up again on its first fetch;
    // one the log start has passed meanwhile is reset to the earliest (auto.offset.reset).
    for (int p = 0; p < partitions.size(); p++) {
      c.seek(partitions.get(p), beginning[p]);
    }
    if (LOG.isDebugEnabled()) {
      long now = System.nanoTime();
      LOG.debug(
          "Topic '{}' set up for replay: admin client {} ms, topic checks {} ms, producer {} ms,"
              + " consumers {} ms, offsets {} ms",
          settings.topic(),
          (setupNanos[0] - setupNanos[4]) / 1_000_000,
          (setupNanos[1] - setupNanos[0]) / 1_000_000,
          (setupNanos[2] - setupNanos[1]) / 1_000_000,
          (setupNanos[3] - setupNanos[2]) / 1_000_000,
          (now - setupNanos[3]) / 1_000_000);
    }
    replayStartNanos = System.nanoTime();
    lastReportNanos = replayStartNanos;
    long total = 0;
    for (int p = 0; p < partitions.size(); p++) {
      total += startEnd[p] - beginning[p];
    }
    LOG.info(
        "Replaying topic '{}': {} partitions, up to {} offsets",
        settings.topic(),
        partitions.size(),
        total);

    publishPositions();
    boolean ready = false;
    long backoffMs = 0;
    while (true) {
      checkStopping();
      try {
        layout.check();
        if (!ready && EndOffsetBarrier.reached(positions, startEnd)) {
          awaitAcknowledged(published);
          if (!layout.recorded()) {
            awaitAcknowledged(recordLayout());
          }
          handOverToTailing();
          ready = true;
          replaying = false;
          report(true);
          log.markReady();
        }
        ConsumerRecords<ByteBuffer, ByteBuffer> records = consumer.poll(POLL_TIMEOUT);
        for (TopicPartition tp : records.partitions()) {
          for (ConsumerRecord<ByteBuffer, ByteBuffer> r : records.records(tp)) {
            if (!handle(r)) {
              break; // the partition was seeked: the rest of this batch is stale
            }
          }
        }
        endFinishedSearches();
        publishPositions();
        if (!ready) {
          heapFit.check(percentPassed(), replayBytes);
        }
        if (!ready
            && !settings.progressInterval().isZero()
            && System.nanoTime() - lastReportNanos >= settings.progressInterval().toNanos()) {
          report(false);
        }
        backoffMs = 0;
      } catch (WakeupException e) {
        // close() woke us: the loop checks for it
      } catch (RecordDeserializationException e) {
        // A record the client itself cannot parse: skip exactly that offset.
        skip(
            SkipReason.UNDECODABLE,
            e.topicPartition().partition(),
            e.offset(),
            "the consumer cannot deserialize it: " + e.getMessage());
        consumer.seek(e.topicPartition(), e.offset() + 1);
      } catch (RetriableException e) {
        backoffMs = backOff(backoffMs, "reading", e);
      } catch (InterruptException e) {
        checkStopping();
        throw e;
      } catch (KafkaException e) {
        int p = corruptBatches.partitionOf(e);
        if (p < 0 || p >= partitions.size()) {
          throw e;
        }
        backoffMs = skipCorruptBatch(p, e, backoffMs);
      }
    }
  }

  /**
   * Replay done: the long-lived consumer takes over at the replay consumer's positions (the next
   * offsets to hand to the sink, schema searches included), and the replay consumer is closed.
   */
  private void handOverToTailing() {
    KafkaConsumer<ByteBuffer, ByteBuffer> from = replay;
    if (from == null) {
      return;
    }
    KafkaConsumer<ByteBuffer, ByteBuffer> to = tailing;
    to.assign(partitions);
    for (TopicPartition tp : partitions) {
      to.seek(tp, from.position(tp, settings.requestTimeout()));
    }
    consumer = to;
    log.polling(to);
    closeReplayConsumer();
    LOG.debug("Topic '{}': replay consumer handed over to the tailing consumer", settings.topic());
  }

  private void closeReplayConsumer() {
    KafkaConsumer<ByteBuffer, ByteBuffer> r = replay;
    replay = null;
    if (r != null) {
      try {
        r.close(Duration.ZERO);
      } catch (RuntimeException e) {
        LOG.debug("Error closing the replay consumer of topic '{}'", settings.topic(), e);
      }
    }
  }

  /** True if both configurations fetch alike: one consumer then does both. */
  private static boolean sameFetchSettings(Map<String, Object> a, Map<String, Object> b) {
    for (String key :
        List.of(
            "fetch.max.bytes",
            "max.partition.fetch.bytes",
            "max.poll.records",
            "fetch.max.wait.ms")) {
      if (!String.valueOf(a.get(key)).equals(String.valueOf(b.get(key)))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Seeks partition {@code p} past the batch the consumer refused with {@code e}, and counts and
   * logs it once. A transient error on the way leaves the position on the batch (the next poll
   * meets it again) and backs off; returns the back-off.
   */
  private long skipCorruptBatch(int p, KafkaException e, long backoffMs) {
    CorruptBatches.Skipped skipped;
    try {
      skipped = corruptBatches.skip(consumer, partitions.get(p), e, partitions);
    } catch (RetriableException transientError) {
      return backOff(backoffMs, "skipping a corrupt batch of", transientError);
    }
    if (skipped != null) {
      recorder.recordSkipped(SkipReason.CORRUPT_BATCH);
      LOG.warn(
          "Skipping a corrupt record batch at topic '{}' partition {} offset {} (offsets {} to {}"
              + " could not be read; batch base offset {}): {}",
          settings.topic(),
          p,
          skipped.from(),
          skipped.from(),
          skipped.past() - 1,
          skipped.baseOffset() < 0 ? "unknown" : skipped.baseOffset(),
          skipped.cause());
    }
    return 0;
  }

  /** The layout record for this topic, sent to partition 0; completes when acknowledged. */
  private CompletableFuture<Void> recordLayout() {
    var acked = new CompletableFuture<Void>();
    producer.send(
        new ProducerRecord<>(
            settings.topic(), 0, LogKey.layout(), PartitionLayout.encodeValue(partitions.size())),
        (md, e) -> {
          if (e == null) {
            acked.complete(null);
          } else {
            acked.completeExceptionally(
                new KafkaDeltaLogException(
                    "Could not record the partition count of topic '"
                        + settings.topic()
                        + "' in it: "
                        + e,
                    e));
          }
        });
    LOG.info(
        "Recording in topic '{}' that it is used with {} partitions (no layout record yet)",
        settings.topic(),
        partitions.size());
    return acked;
  }

  private void awaitAcknowledged(CompletableFuture<Void> f)
      throws InterruptedException, ExecutionException {
    while (true) {
      checkStopping();
      try {
        f.get(100, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException e) {
        // keep waiting: the producer bounds every send by its delivery.timeout.ms
      }
    }
  }

  /**
   * Handles one record; returns false if it seeked the record's partition (the rest of the polled
   * batch of that partition must then be dropped).
   *
   * @throws KafkaDeltaLogException if a layout record says the partition count changed
   */
  private boolean handle(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    int p = r.partition();
    if (rewinds.searching(p)) {
      return search(r);
    }
    ByteBuffer k = heap(r.key());
    ByteBuffer v = heap(r.value());
    LogKey key;
    try {
      key =
          k == null
              ? LogKey.decode(null)
              : LogKey.decode(k.array(), k.arrayOffset() + k.position(), k.remaining());
    } catch (UndecodableRecordException e) {
      countRead(r);
      skip(SkipReason.UNDECODABLE, p, r.offset(), e.getMessage());
      return true;
    }
    if (key instanceof LogKey.Slot slot) {
      return handleSlot(r, slot, k, v);
    }
    countRead(r);
    if (key instanceof LogKey.WriterSchema ws) {
      if (v != null && writerSchemas.findByFingerprint(ws.fingerprint()) == null) {
        try {
          // Every node start republishes its schemas to every partition: parse each one once.
          writerSchemas.add(WriterSchemas.decodeValue(ws.fingerprint(), bytes(v)));
        } catch (UndecodableRecordException e) {
          skip(SkipReason.BAD_SCHEMA_RECORD, p, r.offset(), e.getMessage());
        }
      }
    } else if (key instanceof LogKey.Layout && v != null) {
      handleLayout(r, v);
    }
    return true;
  }

  /**
   * A layout record: one that records fewer partitions than the topic has means partitions were
   * added, which is fatal. Nodes write it to partition 0 and partitions are never removed, so one
   * elsewhere or with more partitions than the topic has was not written by a node: skipped.
   */
  private void handleLayout(ConsumerRecord<ByteBuffer, ByteBuffer> r, ByteBuffer v) {
    int p = r.partition();
    if (p != 0) {
      skip(SkipReason.WRONG_PARTITION, p, r.offset(), "a layout record outside partition 0");
      return;
    }
    int recorded;
    try {
      recorded =
          PartitionLayout.decodeValue(v.array(), v.arrayOffset() + v.position(), v.remaining());
    } catch (UndecodableRecordException e) {
      skip(SkipReason.UNDECODABLE, p, r.offset(), e.getMessage());
      return;
    }
    if (recorded > partitions.size()) {
      skip(
          SkipReason.UNDECODABLE,
          p,
          r.offset(),
          "a layout record of "
              + recorded
              + " partitions, more than the topic has ("
              + partitions.size()
              + "): no node wrote it");
      return;
    }
    layout.onRecord(recorded);
  }

  private boolean handleSlot(
      ConsumerRecord<ByteBuffer, ByteBuffer> r, LogKey.Slot slot, ByteBuffer k, ByteBuffer v) {
    int p = r.partition();
    int home = KafkaDeltaLog.partitionFor(slot.session(), partitions.size());
    if (home != p) {
      countRead(r);
      skip(
          SkipReason.WRONG_PARTITION,
          p,
          r.offset(),
          "a record of session '" + slot.session() + "', whose partition is " + home);
      return true;
    }
    if (!LogKey.isWriterId(slot.writer())) {
      countRead(r);
      skip(
          SkipReason.FOREIGN_WRITER,
          p,
          r.offset(),
          "writer id '" + slot.writer() + "' is not memberId#epoch");
      return true;
    }
    SlotState state = null;
    if (v != null) {
      try {
        state = wire.decode(v.array(), v.arrayOffset() + v.position(), v.remaining());
      } catch (UnknownWriterSchemaException e) {
        Search search = beginSearch(r, e.fingerprint());
        if (search != Search.NOT_POSSIBLE) {
          return search == Search.READING_ON; // not counted yet: it is read again after the rewind
        }
        countRead(r);
        skip(
            SkipReason.UNKNOWN_SCHEMA,
            p,
            r.offset(),
            e.getMessage() + " (not found in the partition up to its end offset)");
        return true;
      } catch (RuntimeException | StackOverflowError e) {
        // UndecodableRecordException, or anything Avro's resolution throws on a hostile schema.
        countRead(r);
        skip(SkipReason.UNDECODABLE, p, r.offset(), e.getMessage());
        return true;
      }
    }
    countRead(r);
    if (replaying && v != null) {
      heapFit.onSlot(k.array(), k.arrayOffset() + k.position(), k.remaining(), v.remaining());
    }
    deliver(new LogEntry(new SlotRecord(slot.session(), slot.writer(), state), p, r.offset()));
    return true;
  }

  /** How a search for a writer schema began. */
  private enum Search {
    /** The partition was searched up to its end already: the record is skipped. */
    NOT_POSSIBLE,
    /** Searching from the next record on: the rest of the polled batch is searched. */
    READING_ON,
    /** Searching from where an earlier search ended: the partition was seeked there. */
    SEEKED
  }

  /**
   * The record at {@code r} needs a writer schema this node does not know: starts a search for it
   * in the record's partition (see {@link SchemaRewinds}) if one can find anything.
   */
  private Search beginSearch(ConsumerRecord<ByteBuffer, ByteBuffer> r, long fingerprint) {
    int p = r.partition();
    TopicPartition tp = partitions.get(p);
    long end = endOffset(tp);
    long start = rewinds.searchStart(p, r.offset(), end);
    if (start < 0) {
      return Search.NOT_POSSIBLE;
    }
    rewinds.begin(p, r.offset(), fingerprint, end);
    LOG.info(
        "Topic '{}' partition {} offset {} was written with writer schema {}, not known yet:"
            + " reading ahead to offset {} for it (compaction can leave a schema record after the"
            + " data written with it)",
        settings.topic(),
        p,
        r.offset(),
        String.format("%016x", fingerprint),
        end);
    if (start > r.offset() + 1) {
      consumer.seek(tp, start); // schema records below start were seen by an earlier search
      return Search.SEEKED;
    }
    return Search.READING_ON;
  }

  /** A record of a partition being searched: only writer-schema records count. */
  private boolean search(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    int p = r.partition();
    ByteBuffer k = heap(r.key());
    ByteBuffer v = heap(r.value());
    if (k != null && v != null && k.remaining() == 9 && k.get(k.position()) == LogKey.SCHEMA) {
      try {
        var ws = (LogKey.WriterSchema) LogKey.decode(k.array(), k.arrayOffset() + k.position(), 9);
        if (writerSchemas.findByFingerprint(ws.fingerprint()) == null) {
          writerSchemas.add(WriterSchemas.decodeValue(ws.fingerprint(), bytes(v)));
        }
      } catch (UndecodableRecordException e) {
        // counted when the partition is read again after the rewind
      }
    }
    boolean found = writerSchemas.findByFingerprint(rewinds.wanted(p)) != null;
    if (found || r.offset() + 1 >= rewinds.limit(p)) {
      endSearch(p, r.offset() + 1, found);
      return false;
    }
    return true;
  }

  /** After a poll: ends searches whose schema arrived elsewhere or that reached their limit. */
  private void endFinishedSearches() {
    for (int p = 0; p < partitions.size(); p++) {
      if (rewinds.searching(p)) {
        long at = consumer.position(partitions.get(p), settings.requestTimeout());
        boolean found = writerSchemas.findByFingerprint(rewinds.wanted(p)) != null;
        if (found || at >= rewinds.limit(p)) {
          endSearch(p, at, found);
        }
      }
    }
  }

  private void endSearch(int p, long upTo, boolean found) {
    long wanted = rewinds.wanted(p);
    long back = rewinds.end(p, upTo);
    consumer.seek(partitions.get(p), back);
    LOG.info(
        "Topic '{}' partition {}: writer schema {} {}; reading on from offset {}",
        settings.topic(),
        p,
        String.format("%016x", wanted),
        found ? "found" : "not found up to offset " + upTo,
        back);
  }

  /** The partition's end offset as of the last fetch (no round trip), or looked up. */
  private long endOffset(TopicPartition tp) {
    OptionalLong lag = consumer.currentLag(tp);
    if (lag.isPresent()) {
      return consumer.position(tp, settings.requestTimeout()) + lag.getAsLong();
    }
    return retrying(() -> consumer.endOffsets(List.of(tp), settings.requestTimeout())).get(tp);
  }

  /** Counts a record as read, once even if a rewind reads it again. */
  private void countRead(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    int p = r.partition();
    if (r.offset() < counted[p]) {
      return;
    }
    counted[p] = r.offset() + 1;
    int size = Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
    replayRecords++;
    replayBytes += size;
    recorder.recordRead(size);
  }

  private static byte[] bytes(ByteBuffer v) {
    byte[] out = new byte[v.remaining()];
    v.duplicate().get(out);
    return out;
  }

  /** The buffer itself if it is backed by an array (fetched data is), else a heap copy. */
  private static ByteBuffer heap(ByteBuffer b) {
    if (b == null || b.hasArray()) {
      return b;
    }
    ByteBuffer copy = ByteBuffer.allocate(b.remaining());
    copy.put(b.duplicate()).flip();
    return copy;
  }

  private void deliver(LogEntry entry) {
    try {
      sink.accept(entry);
    } catch (RuntimeException e) {
      recorder.recordSkipped(SkipReason.SINK_FAILED);
      LOG.error(
          "The sink threw on the record at topic '{}' partition {} offset {}; this node skipped it",
          settings.topic(),
          entry.partition(),
          entry.offset(),
          e);
      return;
    }
    recorder.recordApplied();
  }

  /** Counts a skipped record and logs it: at WARN for the first few of a kind, then sparsely. */
  private void skip(SkipReason reason, int partition, long offset, String why) {
    recorder.recordSkipped(reason);
    long n = ++skipsLogged[reason.ordinal()];
    if (n <= WARN_FIRST || n % WARN_EVERY == 0) {
      LOG.warn(
          "Skipping a record at topic '{}' partition {} offset {} ({}, {} of this kind so far): {}",
          settings.topic(),
          partition,
          offset,
          reason,
          n,
          why);
    } else {
      LOG.debug(
          "Skipping a record at topic '{}' partition {} offset {} ({}): {}",
          settings.topic(),
          partition,
          offset,
          reason,
          why);
    }
  }

  private void publishPositions() {
    KafkaConsumer<ByteBuffer, ByteBuffer> c = consumer;
    long[] now = new long[partitions.size()];
    for (int p = 0; p < now.length; p++) {
      // A partition searched for a schema has reached the sink only up to its record to retry.
      now[p] =
          rewinds.searching(p)
              ? rewinds.rewindTo(p)
              : c.position(partitions.get(p), settings.requestTimeout());
    }
    positions = now;
    barrier.advance(now);
  }

  /** The share, 0 to 100, of the offsets to replay that the reader's position has passed. */
  private double percentPassed() {
    long total = 0;
    long passed = 0;
    long[] at = positions;
    for (int p = 0; p < partitions.size(); p++) {
      total += startEnd[p] - beginning[p];
      passed += Math.max(0, Math.min(startEnd[p], at[p]) - beginning[p]);
    }
    return total == 0 ? 100.0 : 100.0 * passed / total;
  }

  /**
   * Warns once if client properties the user gave let the clients hold more than the memory budget
   * (they win over the derived values).
   */
  private void warnIfOverBudget(
      ClientBuffers buffers,
      long clientBytes,
      Map<String, Object> producerConfig,
      Map<String, Object> consumerConfig) {
    if (clientBytes <= buffers.budget()) {
      return;
    }
    var given = new java.util.TreeMap<String, Object>();
    for (String key :
        List.of(
            "buffer.memory", "fetch.max.bytes", "max.partition.fetch.bytes", "max.poll.records")) {
      if (settings.clientProperties().containsKey(key)) {
        given.put(
            key, key.equals("buffer.memory") ? producerConfig.get(key) : consumerConfig.get(key));
      }
    }
    LOG.warn(
        "Kafka clients of topic '{}' may hold up to {} bytes of buffers with the client properties"
            + " given ({}), more than memoryBudget={} bytes (derived: buffer.memory={},"
            + " fetch.max.bytes={}, max.partition.fetch.bytes={}, max.poll.records={}); the"
            + " properties given win",
        settings.topic(),
        clientBytes,
        given,
        buffers.budget(),
        buffers.bufferMemory(),
        buffers.fetchMaxBytes(),
        buffers.partitionFetchBytes(),
        buffers.maxPollRecords());
  }

  private void report(boolean done) {
    long now = System.nanoTime();
    lastReportNanos = now;
    double percent = percentPassed();
    var progress =
        new ReplayProgress(
            settings.topic(),
            replayRecords,
            replayBytes,
            percent,
            Duration.ofNanos(now - replayStartNanos),
            done);
    LOG.info(
        "{} topic '{}': {} records, {} bytes, {}% of end offsets, {} records/s, {} MB/s",
        done ? "Replayed" : "Replaying",
        settings.topic(),
        progress.records(),
        progress.bytes(),
        String.format("%.1f", percent),
        String.format("%.0f", progress.recordsPerSecond()),
        String.format("%.1f", progress.megabytesPerSecond()));
    if (done) {
      LOG.info(
          "Heap of topic '{}': {}",
          settings.topic(),
          heapFit.describe(percent, replayBytes, false));
    }
    log.replayProgressed(progress);
    try {
      settings.listener().onReplayProgress(progress);
    } catch (RuntimeException e) {
      LOG.warn("Listener of topic '{}' threw on onReplayProgress", settings.topic(), e);
    }
  }

  private Map<TopicPartition, OffsetSpec> specs(OffsetSpec spec) {
    Map<TopicPartition, OffsetSpec> m = new java.util.HashMap<>();
    for (TopicPartition tp : partitions) {
      m.put(tp, spec);
    }
    return m;
  }

  /**
   * The offsets the admin client was asked for at set-up, or, if it could not answer within the
   * request timeout, those the consumer looks up (retrying transient errors).
   */
  private long[] answered(
      KafkaFuture<Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo>> asked,
      Supplier<Map<TopicPartition, Long>> fallback)
      throws InterruptedException {
    try {
      var answer = asked.get(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
      long[] out = new long[partitions.size()];
      for (int p = 0; p < out.length; p++) {
        out[p] = answer.get(partitions.get(p)).offset();
      }
      return out;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      checkStopping();
      LOG.debug("Topic '{}': offsets from the consumer ({})", settings.topic(), e.toString());
      return toArray(fallback.get());
    }
  }

  private long[] toArray(Map<TopicPartition, Long> offsets) {
    long[] out = new long[partitions.size()];
    for (int p = 0; p < out.length; p++) {
      out[p] = offsets.get(partitions.get(p));
    }
    return out;
  }

  private <T> T retrying(Supplier<T> call) {
    long backoffMs = 0;
    while (true) {
      checkStopping();
      try {
        return call.get();
      } catch (WakeupException e) {
        // close() woke us: checkStopping() ends the loop
      } catch (RetriableException e) {
        backoffMs = backOff(backoffMs, "on", e);
      }
    }
  }

  /**
   * After a transient error: logs it, waits 100 ms after the first, then twice as long as the
   * previous wait up to {@code MAX_BACKOFF_MS}, and returns the wait.
   */
  private long backOff(long previousMs, String doing, RetriableException e) {
    long ms = previousMs == 0 ? 100 : Math.min(MAX_BACKOFF_MS, previousMs * 2);
    LOG.warn(
        "Transient error {} topic '{}', retrying in {} ms: {}",
        doing,
        settings.topic(),
        ms,
        e.toString());
    pause(ms);
    return ms;
  }

  private void pause(long millis) {
    try {
      if (stopSignal.await(millis, TimeUnit.MILLISECONDS)) {
        throw new Stopping();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Stopping();
    }
  }

  private void checkStopping() {
    if (stopping) {
      throw new Stopping();
    }
  }
}
