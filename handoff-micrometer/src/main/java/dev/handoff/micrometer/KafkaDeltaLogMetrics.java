package dev.handoff.micrometer;

import dev.handoff.kafka.KafkaDeltaLog;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.kafka.clients.admin.AdminClient;

/**
 * Micrometer meters for a {@link KafkaDeltaLog}: what its reader read and skipped, and the metrics
 * of its Kafka producer, consumer and admin client through Micrometer's {@link KafkaClientMetrics}
 * (bound as soon as the log has created them).
 *
 * <p>Meters, with the given tags (usually {@link HandoffMetrics#tags()}):
 *
 * <ul>
 *   <li>function counter {@code handoff.records.skipped}, tagged {@code reason}: {@code
 *       undecodable}, {@code unknown-schema}, {@code bad-schema-record}, {@code wrong-partition},
 *       {@code foreign-writer}, {@code corrupt-batch} (batches), {@code sink-failed};
 *   <li>function counters {@code handoff.log.read.records} and {@code handoff.log.read.bytes}:
 *       records and key-and-value bytes the reader read since start, the replay included;
 *   <li>{@code kafka.producer.*}, {@code kafka.consumer.*}, {@code kafka.admin.client.*}: the
 *       clients' own metrics, with their {@code client.id} ({@code handoff-<group>-<member>-<role>}
 *       with {@code KafkaDeltaLogBuilder.clientIdsFor}).
 * </ul>
 *
 * <p>Bind it to one registry. {@link #close()} stops the Kafka client binders; idempotent.
 */
public final class KafkaDeltaLogMetrics implements MeterBinder, AutoCloseable {

  private final KafkaDeltaLog log;
  private final Tags tags;
  private final List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
  private AutoCloseable clientsListener;
  private boolean closed;

  /**
   * @param log the log
   * @param tags tags for every meter, e.g. {@link HandoffMetrics#tags()}
   */
  public KafkaDeltaLogMetrics(KafkaDeltaLog log, Iterable<Tag> tags) {
    this.log = Objects.requireNonNull(log, "log");
    this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
  }

  /**
   * @throws IllegalStateException if already bound (bind one instance per registry)
   */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    if (clientsListener != null || closed) {
      throw new IllegalStateException(
          "KafkaDeltaLogMetrics of topic '" + log.topic() + "' is already bound or closed");
    }
    for (var reason : KafkaDeltaLog.SkipReason.values()) {
      FunctionCounter.builder("handoff.records.skipped", log, l -> l.skippedRecords(reason))
          .description("Log records the reader skipped (corrupt-batch: batches), by reason")
          .tags(tags)
          .tag("reason", reason.name().toLowerCase(Locale.ROOT).replace('_', '-'))
          .register(registry);
    }
    FunctionCounter.builder("handoff.log.read.records", log, KafkaDeltaLog::recordsRead)
        .description("Records the reader read since start, the replay included")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder("handoff.log.read.bytes", log, KafkaDeltaLog::bytesRead)
        .description("Key and value bytes the reader read since start, the replay included")
        .baseUnit("bytes")
        .tags(tags)
        .register(registry);
    clientsListener = log.onClients(clients -> bindClients(clients, registry));
  }

  private synchronized void bindClients(KafkaDeltaLog.Clients clients, MeterRegistry registry) {
    if (closed) {
      return;
    }
    var bound = new ArrayList<KafkaClientMetrics>();
    bound.add(new KafkaClientMetrics(clients.producer(), tags));
    bound.add(new KafkaClientMetrics(clients.reader(), tags));
    if (clients.admin() instanceof AdminClient admin) {
      bound.add(new KafkaClientMetrics(admin, tags));
    }
    for (var m : bound) {
      m.bindTo(registry);
      clientMetrics.add(m);
    }
  }

  /** Stops the Kafka client binders and the clients listener. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    clientMetrics.forEach(KafkaClientMetrics::close);
    clientMetrics.clear();
    if (clientsListener != null) {
      try {
        clientsListener.close();
      } catch (Exception e) {
        // removing a listener does not fail
      }
    }
  }
}
