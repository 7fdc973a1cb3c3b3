package dev.handoff.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Gets the reader past a record batch the consumer refuses: a CRC mismatch (a batch damaged on a
 * broker's disk), or records it cannot parse. kafka-clients 4.3 reports it as a plain {@link
 * KafkaException} ("Received exception when fetching the next record from topic-3 ...") whose cause
 * names the batch's base offset, and leaves the position on the batch. Seeking one offset on fails
 * again for every offset of the batch (a fetch returns the whole batch that holds the offset), so
 * the first offset past the batch is found by probing with only that partition fetching: doubling
 * the step, then bisecting, a few round trips even for a batch of thousands of records.
 *
 * <p>Used by the reader thread only.
 */
final class CorruptBatches {

  private static final Pattern BASE_OFFSET = Pattern.compile("at offset (\\d+) is invalid");
  private static final Duration PROBE_POLL = Duration.ofMillis(200);

  /** What a fetch at one offset met. */
  private enum Probe {
    /** The corrupt batch itself. */
    INSIDE,
    /** Anything past it: records, another batch's error, or the end of the partition. */
    PAST
  }

  /** Where a skipped batch was: its first offset this reader could not read, and the next one. */
  record Skipped(int partition, long from, long past, long baseOffset, String cause) {}

  private final Pattern partitionInMessage;
  private final Duration requestTimeout;
  private final Runnable checkStopping;
  // Batches already skipped once (by base offset, or first offset): a rewind may meet them again.
  private final Set<List<Long>> seen = new HashSet<>();

  CorruptBatches(String topic, Duration requestTimeout, Runnable checkStopping) {
    this.partitionInMessage =
        Pattern.compile(
            "fetching the next record from " + Pattern.quote(topic + "-") + "(\\d+)\\b");
    this.requestTimeout = requestTimeout;
    this.checkStopping = checkStopping;
  }

  /**
   * The partition whose data the consumer refused, or -1 if {@code e} is another error. Only a
   * plain {@code KafkaException} naming a partition of the topic qualifies: its subclasses are
   * typed errors (authorization, unknown topic, ...) that no skipping can cure.
   */
  int partitionOf(KafkaException e) {
    if (e.getClass() != KafkaException.class || e.getMessage() == null) {
      return -1;
    }
    Matcher m = partitionInMessage.matcher(e.getMessage());
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /**
   * Seeks {@code tp} past the batch at its position that the consumer refused with {@code e}. Other
   * partitions are paused meanwhile and keep their positions. If a probe fails on anything else (a
   * {@link TimeoutException} if the broker does not answer), the position goes back to the refused
   * batch and the error is thrown.
   *
   * @return where the batch was, or null if it had been skipped before (it is not counted again)
   */
  Skipped skip(
      KafkaConsumer<?, ?> c, TopicPartition tp, KafkaException e, List<TopicPartition> all) {
    long from = c.position(tp, requestTimeout);
    long base = baseOffset(e);
    long end = c.endOffsets(List.of(tp), requestTimeout).get(tp);
    List<TopicPartition> others = new ArrayList<>(all);
    others.remove(tp);
    c.pause(others);
    boolean done = false;
    try {
      // Without the batch's base offset two corrupt batches cannot be told apart: step by one.
      boolean exact = base >= 0;
      long inside = from;
      long past = -1;
      long step = 1;
      while (past < 0 || past - inside > 1) {
        long probe = past < 0 ? inside + step : inside + (past - inside) / 2;
        if (probe(c, tp, probe, end, exact ? base : -1) == Probe.INSIDE) {
          inside = probe;
          if (exact) {
            step *= 2;
          }
        } else {
          past = probe;
        }
      }
      c.seek(tp, past);
      done = true;
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return seen.add(List.of((long) tp.partition(), exact ? base : from))
          ? new Skipped(tp.partition(), from, past, base, String.valueOf(cause.getMessage()))
          : null;
    } finally {
      if (!done) {
        c.seek(tp, from);
      }
      c.resume(others);
    }
  }

  private Probe probe(
      KafkaConsumer<?, ?> c, TopicPartition tp, long offset, long end, long badBase) {
    if (offset >= end) {
      return Probe.PAST; // the batch was fetched, so it lies below the end offset read after
    }
    c.seek(tp, offset);
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    while (true) {
      checkStopping.run();
      ConsumerRecords<?, ?> got;
      try {
        got = c.poll(PROBE_POLL);
      } catch (KafkaException e) {
        if (partitionOf(e) != tp.partition()) {
          throw e;
        }
        return badBase < 0 || baseOffset(e) == badBase ? Probe.INSIDE : Probe.PAST;
      }
      // Records (discarded here: the caller's seek reads them again), or a position moved past.
      if (!got.isEmpty() || c.position(tp, requestTimeout) > offset) {
        return Probe.PAST;
      }
      if (System.nanoTime() > deadline) {
        // The broker may be away: transient, the caller backs off and meets the batch again.
        throw new TimeoutException(
            "No answer to a fetch of " + tp + " at offset " + offset + " within " + requestTimeout);
      }
    }
  }

  /** The batch's base offset from the consumer's message, or -1 if it names none. */
  private static long baseOffset(KafkaException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null) {
        Matcher m = BASE_OFFSET.matcher(t.getMessage());
        if (m.find()) {
          return Long.parseLong(m.group(1));
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return -1;
  }
}
