package dev.handoff.bench;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * A bare consumer following a topic from its end and discarding what it reads, on its own thread:
 * the read-back every Handoff node does of its own topic, without Handoff.
 */
final class Tail implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final AtomicLong records = new AtomicLong();
  private volatile boolean stop;

  Tail(Bench bench, String topic, ClientProfile profile) {
    consumer = new KafkaConsumer<>(bench.consumerConfig(profile, "bench-tail-" + topic));
    List<TopicPartition> tps =
        consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    consumer.assign(tps);
    consumer.seekToEnd(tps);
    tps.forEach(consumer::position); // resolve the end now, not lazily at the first poll
    thread = new Thread(this::run, "bench-tail-" + topic);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      while (!stop) {
        records.addAndGet(consumer.poll(Duration.ofMillis(100)).count());
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close();
    }
  }

  long records() {
    return records.get();
  }

  @Override
  public void close() {
    stop = true;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
