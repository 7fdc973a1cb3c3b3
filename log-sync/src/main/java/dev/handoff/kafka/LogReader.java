package dev.handoff.kafka;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
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
 * consumer, except {@link KafkaConsumer#wakeup()}, which is thread-safe.
 */
final class LogReader {

  private static final Logger LOG = LoggerFactory.getLogger(LogReader.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
  private static final long MAX_BACKOFF_MS = 5000;

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

  private volatile boolean stopping;

  /** Positions after the last records handed to the sink, by partition; also given to barriers. */
  private long[] positions;

  private volatile Admin admin;
  private volatile KafkaConsumer<ByteBuffer, ByteBuffer> consumer;

  private List<TopicPartition> partitions;
  private long[] beginning;
  private long[] startEnd;
  private long replayStartNanos;
  private long lastReportNanos;
  // What replay progress reports: every record read since start, and its key and value bytes.
  private long replayRecords;
  private long replayBytes;

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
    KafkaConsumer<ByteBuffer, ByteBuffer> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  void run() {
    String topic = settings.topic();
    try {
      Admin a =
          Admin.create(
              ClientConfigs.admin(
                  settings.clientProperties(),
                  settings.bootstrapServers(),
                  "handoff-log-admin-" + topic));
      admin = a;
      TopicSetup.Layout layout;
      KafkaProducer<byte[], byte[]> producer;
      try {
        checkStopping();
        layout = TopicSetup.ensure(a, settings);
        checkStopping();
        producer =
            new KafkaProducer<>(
                ClientConfigs.producer(
                    settings.clientProperties(),
                    settings.bootstrapServers(),
                    "handoff-log-producer-" + topic));
      } catch (Throwable t) {
        a.close(Duration.ZERO);
        throw t;
      } finally {
        admin = null;
      }
      // From here the log owns (and closes) the admin client and the producer. The writer schemas
      // are published while the replay runs (other writers' schemas precede their data in the
      // topic; ours only have to precede our own writes): ready waits for both.
      CompletableFuture<Void> published = log.topicReady(layout, producer, a);
      consumer =
          new KafkaConsumer<>(
              ClientConfigs.consumer(
                  settings.clientProperties(),
                  settings.bootstrapServers(),
                  "handoff-log-reader-" + topic));
      checkStopping();
      partitions = new ArrayList<>();
      for (int p = 0; p < layout.partitions(); p++) {
        partitions.add(new TopicPartition(topic, p));
      }
      replayAndFollow(published);
    } catch (Stopping e) {
      // closing
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
      KafkaConsumer<ByteBuffer, ByteBuffer> c = consumer;
      consumer = null;
      if (c != null) {
        try {
          c.close();
        } catch (RuntimeException e) {
          LOG.debug("Error closing the consumer of topic '{}'", topic, e);
        }
      }
    }
  }

  private void replayAndFollow(CompletableFuture<Void> published)
      throws InterruptedException, ExecutionException {
    KafkaConsumer<ByteBuffer, ByteBuffer> c = consumer;
    c.assign(partitions);
    c.seekToBeginning(partitions);
    beginning = toArray(retrying(() -> c.beginningOffsets(partitions, settings.requestTimeout())));
    startEnd = toArray(retrying(() -> c.endOffsets(partitions, settings.requestTimeout())));
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
        if (!ready && EndOffsetBarrier.reached(positions, startEnd)) {
          awaitPublished(published);
          ready = true;
          report(true);
          log.markReady();
        }
        ConsumerRecords<ByteBuffer, ByteBuffer> records = c.poll(POLL_TIMEOUT);
        for (ConsumerRecord<ByteBuffer, ByteBuffer> r : records) {
          handle(r);
        }
        publishPositions();
        if (!ready
            && !settings.progressInterval().isZero()
            && System.nanoTime() - lastReportNanos >= settings.progressInterval().toNanos()) {
          report(false);
        }
        backoffMs = 0;
      } catch (WakeupException e) {
        // close() woke us: the loop checks for it
      } catch (RecordDeserializationException e) {
        // A record the client itself cannot parse (e.g. CRC mismatch): skip exactly that offset.
        skipUndecodable(e.topicPartition().partition(), e.offset(), e.getMessage());
        c.seek(e.topicPartition(), e.offset() + 1);
      } catch (RetriableException e) {
        backoffMs = backOff(backoffMs, "reading", e);
      } catch (InterruptException e) {
        checkStopping();
        throw e;
      }
    }
  }

  private void awaitPublished(CompletableFuture<Void> published)
      throws InterruptedException, ExecutionException {
    while (true) {
      checkStopping();
      try {
        published.get(100, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException e) {
        // keep waiting: the producer bounds every send by its delivery.timeout.ms
      }
    }
  }

  private void handle(ConsumerRecord<ByteBuffer, ByteBuffer> r) {
    int size = Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
    replayRecords++;
    replayBytes += size;
    recorder.recordRead(size);
    try {
      ByteBuffer k = heap(r.key());
      ByteBuffer v = heap(r.value());
      LogKey key =
          k == null
              ? LogKey.decode(null)
              : LogKey.decode(k.array(), k.arrayOffset() + k.position(), k.remaining());
      if (key instanceof LogKey.Slot slot) {
        var record =
            new SlotRecord(
                slot.session(),
                slot.writer(),
                v == null
                    ? null
                    : wire.decode(v.array(), v.arrayOffset() + v.position(), v.remaining()));
        deliver(new LogEntry(record, r.partition(), r.offset()));
      } else if (key instanceof LogKey.WriterSchema ws
          && v != null
          && writerSchemas.findByFingerprint(ws.fingerprint()) == null) {
        // Every node start republishes its schemas to every partition: parse each one once.
        byte[] bytes = new byte[v.remaining()];
        v.duplicate().get(bytes);
        writerSchemas.add(WriterSchemas.decodeValue(ws.fingerprint(), bytes));
      }
    } catch (UndecodableRecordException | IllegalArgumentException e) {
      skipUndecodable(r.partition(), r.offset(), e.getMessage());
    }
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
      recorder.recordSkipped(ReadRecorder.SkipReason.SINK_FAILED);
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

  private void skipUndecodable(int partition, long offset, String reason) {
    recorder.recordSkipped(ReadRecorder.SkipReason.UNDECODABLE);
    LOG.warn(
        "Skipping undecodable record at topic '{}' partition {} offset {}: {}",
        settings.topic(),
        partition,
        offset,
        reason);
  }

  private void publishPositions() {
    KafkaConsumer<ByteBuffer, ByteBuffer> c = consumer;
    long[] now = new long[partitions.size()];
    for (int p = 0; p < now.length; p++) {
      now[p] = c.position(partitions.get(p), settings.requestTimeout());
    }
    positions = now;
    barrier.advance(now);
  }

  private void report(boolean done) {
    long now = System.nanoTime();
    lastReportNanos = now;
    long total = 0;
    long passed = 0;
    long[] at = positions;
    for (int p = 0; p < partitions.size(); p++) {
      total += startEnd[p] - beginning[p];
      passed += Math.max(0, Math.min(startEnd[p], at[p]) - beginning[p]);
    }
    double percent = total == 0 ? 100.0 : 100.0 * passed / total;
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
    try {
      settings.listener().onReplayProgress(progress);
    } catch (RuntimeException e) {
      LOG.warn("Listener of topic '{}' threw on onReplayProgress", settings.topic(), e);
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
