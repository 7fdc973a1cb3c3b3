package dev.handoff.kafka;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.Schema;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * Publication of this node's Avro writer schemas (the wire schema and every {@link AvroStateCodec}
 * schema) as reserved records, to every partition of the topic, so that every reader learns a
 * schema before the data written with it. A schema registered before the topic is set up is
 * published when it is ({@link #publishRegistered}), and start waits for that; one registered later
 * is published at once. Each schema is published once per log; its future completes when every
 * partition acknowledged it.
 *
 * <p>Thread-safe; sends happen outside the lock.
 */
final class SchemaPublisher {

  private final String topic;
  private final WriterSchemas known;
  private final CallbackThread callbacks;
  private final Object lock = new Object();
  // Guarded by lock.
  private final Map<Long, CompletableFuture<Void>> publications = new HashMap<>();
  private final List<Schema> unpublished = new ArrayList<>();
  private KafkaProducer<byte[], byte[]> producer;
  private int partitions;
  private Throwable closed;

  SchemaPublisher(String topic, WriterSchemas known, CallbackThread callbacks) {
    this.topic = topic;
    this.known = known;
    this.callbacks = callbacks;
  }

  /**
   * Makes a writer schema known locally at once and publishes it to every partition of the topic;
   * the future completes when all those records are acknowledged. Before the topic is set up the
   * publication waits for {@link #publishRegistered}.
   */
  CompletableFuture<Void> register(Schema schema) {
    known.add(schema);
    long fp = SingleObject.fingerprint(schema);
    KafkaProducer<byte[], byte[]> p;
    int count;
    CompletableFuture<Void> f;
    synchronized (lock) {
      CompletableFuture<Void> existing = publications.get(fp);
      if (existing != null) {
        return existing.copy();
      }
      if (closed != null) {
        return CompletableFuture.failedFuture(closed);
      }
      f = new CompletableFuture<>();
      publications.put(fp, f);
      p = producer;
      count = partitions;
      if (p == null) {
        unpublished.add(schema);
        return f.copy();
      }
    }
    publishToAllPartitions(p, count, schema).whenComplete((v, e) -> callbacks.settle(f, e));
    return f.copy();
  }

  /**
   * The topic is set up: publishes the schemas registered so far with {@code p}, and every later
   * one at once. The future completes when all of those are acknowledged.
   */
  CompletableFuture<Void> publishRegistered(KafkaProducer<byte[], byte[]> p, int partitionCount) {
    List<Schema> toPublish;
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    synchronized (lock) {
      if (closed != null) {
        return CompletableFuture.failedFuture(closed);
      }
      producer = p;
      partitions = partitionCount;
      toPublish = new ArrayList<>(unpublished);
      unpublished.clear();
      for (Schema s : toPublish) {
        futures.add(publications.get(SingleObject.fingerprint(s)));
      }
    }
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (int i = 0; i < toPublish.size(); i++) {
      var f = futures.get(i);
      acks.add(
          publishToAllPartitions(p, partitionCount, toPublish.get(i))
              .whenComplete((v, e) -> callbacks.settle(f, e)));
    }
    return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
  }

  /** Fails every pending publication, and every later registration, with {@code error}. */
  void close(Throwable error) {
    List<CompletableFuture<Void>> pending;
    synchronized (lock) {
      if (closed == null) {
        closed = error;
      }
      pending = new ArrayList<>(publications.values());
    }
    pending.forEach(f -> f.completeExceptionally(error));
  }

  private CompletableFuture<Void> publishToAllPartitions(
      KafkaProducer<byte[], byte[]> p, int partitionCount, Schema schema) {
    long fp = SingleObject.fingerprint(schema);
    byte[] key = LogKey.writerSchema(fp);
    byte[] value = WriterSchemas.encodeValue(schema);
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (int partition = 0; partition < partitionCount; partition++) {
      var ack = new CompletableFuture<Void>();
      acks.add(ack);
      int part = partition;
      try {
        p.send(
            new ProducerRecord<>(topic, partition, key, value),
            (md, e) -> {
              if (e == null) {
                ack.complete(null);
              } else {
                ack.completeExceptionally(
                    new KafkaDeltaLogException(
                        String.format(
                            "Could not publish writer schema %016x (%s) to topic '%s' partition"
                                + " %d: %s",
                            fp, schema.getFullName(), topic, part, e),
                        e));
              }
            });
      } catch (KafkaException | IllegalStateException e) {
        ack.completeExceptionally(e);
      }
    }
    return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
  }
}
