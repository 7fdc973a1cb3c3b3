package dev.handoff.bench;

import dev.handoff.MemberEvent;
import dev.handoff.StateHandoff;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;

/**
 * Item 3. Node A stashes one session at a time; node B reports it through {@code onRemoteChange}.
 * Measured: A's ack to B's callback. Baseline: a plain producer's ack to a plain consumer (same
 * consumer settings, assigned every partition) polling the record. Then B's {@code read(key)}
 * (barrier + local read), and, after A has left, B's {@code pickup(key)}.
 */
final class LatencyScenario {
  private static final String SCENARIO = "3 Handoff latency";
  private static final long TIMEOUT_S = 30;

  private record Waiter(long stamp, CompletableFuture<Long> seen) {}

  private final Bench bench;

  LatencyScenario(Bench bench) {
    this.bench = bench;
  }

  void run(ClientProfile profile) throws Exception {
    int samples = bench.options.latencySamples();
    int warmup = Math.min(200, samples);
    int calls = Math.min(100, samples);
    String topic = "bench-latency-" + profile.id();
    String plainTopic = "bench-latency-plain-" + profile.id();
    bench.createTopic(plainTopic);
    String tag = " [" + profile.label() + "]";

    long[] ackToVisible = new long[samples];
    long[] callToVisible = new long[samples];
    long[] plainAckToVisible = new long[samples];
    long[] plainCallToVisible = new long[samples];
    long[] reads = new long[calls];
    long[] pickups = new long[calls];

    Map<String, Waiter> waiting = new ConcurrentHashMap<>();
    StateHandoff<byte[]> a = bench.node(topic, "lat-a-" + profile.id(), profile);
    StateHandoff<byte[]> b = bench.node(topic, "lat-b-" + profile.id(), profile);
    try {
      CompletableFuture.allOf(a.start(), b.start()).join();
      b.onRemoteChange(
          change -> {
            Waiter w = waiting.get(change.key());
            if (w != null
                && change.state().isPresent()
                && Bench.stampOf(change.state().get()) == w.stamp()) {
              w.seen().complete(System.nanoTime());
            }
          });
      Pipelined.run(samples, 64, i -> a.stash(Bench.key("lat", i), bench.value(0)))
          .requireNoFailures("claiming the latency sessions");
      for (int i = 0; i < warmup; i++) {
        handoffSample(a, waiting, i, 1, null, null);
      }
      for (int i = 0; i < samples; i++) {
        handoffSample(a, waiting, i, 2, ackToVisible, callToVisible);
      }
      for (int i = 0; i < calls; i++) {
        long t0 = System.nanoTime();
        var v = b.read(Bench.key("lat", i)).get(TIMEOUT_S, TimeUnit.SECONDS);
        reads[i] = System.nanoTime() - t0;
        if (v.isEmpty() || Bench.stampOf(v.get()) != stamp(2, i)) {
          throw new IllegalStateException("read on B returned a stale state for lat " + i);
        }
      }
      // A leaves; once B has seen it go, B picks A's sessions up one at a time.
      var aGone = new CompletableFuture<Void>();
      String aId = a.self().id();
      b.onMemberEvent(
          e -> {
            if (e instanceof MemberEvent.MemberDown d && d.member().id().equals(aId)) {
              aGone.complete(null);
            }
          });
      a.leave().get(TIMEOUT_S, TimeUnit.SECONDS);
      aGone.get(TIMEOUT_S, TimeUnit.SECONDS);
      for (int i = 0; i < calls; i++) {
        long t0 = System.nanoTime();
        var v = b.pickup(Bench.key("lat", i)).get(TIMEOUT_S, TimeUnit.SECONDS);
        pickups[i] = System.nanoTime() - t0;
        if (v.isEmpty() || Bench.stampOf(v.get()) != stamp(2, i)) {
          throw new IllegalStateException("pickup on B returned a stale state for lat " + i);
        }
      }
    } finally {
      Bench.closeQuietly(a);
      Bench.closeQuietly(b);
    }

    plainBaseline(profile, plainTopic, samples, warmup, plainAckToVisible, plainCallToVisible);

    var h = new Samples(ackToVisible, samples);
    var hc = new Samples(callToVisible, samples);
    var p = new Samples(plainAckToVisible, samples);
    var pc = new Samples(plainCallToVisible, samples);
    var rep = bench.report;
    String base = "plain producer ack → plain consumer poll";
    rep.add(
        Figure.difference(
                SCENARIO,
                "stash ack on A → visible on B, p50 ms" + tag,
                h.p50(),
                base,
                p.p50(),
                "",
                null)
            .withId("latency." + profile.id() + ".ack_to_visible_p50_ms"));
    rep.add(
        Figure.difference(
                SCENARIO,
                "stash ack on A → visible on B, p99 ms" + tag,
                h.p99(),
                base,
                p.p99(),
                "p99 ≤ 20 ms",
                h.p99() <= 20)
            .withId("latency." + profile.id() + ".ack_to_visible_p99_ms"));
    rep.add(
        Figure.difference(
            SCENARIO,
            "stash ack on A → visible on B, max ms" + tag,
            h.maxMs(),
            base,
            p.maxMs(),
            "",
            null));
    rep.add(
        Figure.difference(
            SCENARIO,
            "stash call on A → visible on B, p50 ms" + tag,
            hc.p50(),
            "plain send → plain consumer poll",
            pc.p50(),
            "",
            null));
    rep.add(
        Figure.difference(
            SCENARIO,
            "stash call on A → visible on B, p99 ms" + tag,
            hc.p99(),
            "plain send → plain consumer poll",
            pc.p99(),
            "",
            null));
    var r = new Samples(reads, calls);
    var k = new Samples(pickups, calls);
    rep.add(Figure.plain(SCENARIO, "read(key) on B (barrier + local read), p50 ms" + tag, r.p50()));
    rep.add(Figure.plain(SCENARIO, "read(key) on B, p99 ms" + tag, r.p99()));
    rep.add(Figure.plain(SCENARIO, "pickup(key) on B after A left, p50 ms" + tag, k.p50()));
    rep.add(Figure.plain(SCENARIO, "pickup(key) on B after A left, p99 ms" + tag, k.p99()));
    long early = 0;
    for (long v : ackToVisible) {
      if (v < 0) {
        early++;
      }
    }
    rep.note(
        String.format(
            Locale.ROOT,
            "Latency%s: %d sequential samples after %d warm-up ones, one session per sample. A stash"
                + " completes at the ack's callback, so B may see it before A's caller does"
                + " (%d of %d samples, counted as negative). read() and pickup() rows: %d"
                + " sequential calls each. Handoff medians: ack %.2f ms, call → visible %.2f ms.",
            tag,
            samples,
            warmup,
            early,
            samples,
            calls,
            new Samples(subtract(callToVisible, ackToVisible), samples).p50(),
            hc.p50()));
  }

  private static long stamp(int round, int i) {
    return round * 1_000_000L + i;
  }

  private void handoffSample(
      StateHandoff<byte[]> a,
      Map<String, Waiter> waiting,
      int i,
      int round,
      long[] ackToVisible,
      long[] callToVisible)
      throws Exception {
    String key = Bench.key("lat", i);
    long stamp = stamp(round, i);
    var w = new Waiter(stamp, new CompletableFuture<>());
    waiting.put(key, w);
    long t0 = System.nanoTime();
    a.stash(key, bench.value(stamp)).get(TIMEOUT_S, TimeUnit.SECONDS);
    long ack = System.nanoTime();
    long visible = w.seen().get(TIMEOUT_S, TimeUnit.SECONDS);
    waiting.remove(key);
    if (ackToVisible != null) {
      ackToVisible[i] = visible - ack;
      callToVisible[i] = visible - t0;
    }
  }

  /**
   * The plain baseline: a producer's send of one record at a time, acknowledged, then polled by a
   * consumer assigned every partition of {@code topic}; nanoseconds from the ack (and from the
   * send) to the poll, after {@code warmup} unrecorded samples.
   */
  void plainBaseline(
      ClientProfile profile,
      String topic,
      int samples,
      int warmup,
      long[] ackToVisible,
      long[] callToVisible)
      throws Exception {
    Map<String, Waiter> waiting = new ConcurrentHashMap<>();
    var stop = new AtomicBoolean();
    var ready = new CompletableFuture<Void>();
    Thread poller =
        new Thread(
            () -> {
              try (var consumer =
                  new KafkaConsumer<byte[], byte[]>(
                      bench.consumerConfig(profile, "bench-latency-consumer"))) {
                List<TopicPartition> tps =
                    consumer.partitionsFor(topic).stream()
                        .map(x -> new TopicPartition(topic, x.partition()))
                        .toList();
                consumer.assign(tps);
                consumer.seekToEnd(tps);
                tps.forEach(consumer::position);
                ready.complete(null);
                while (!stop.get()) {
                  for (var r : consumer.poll(Duration.ofMillis(100))) {
                    String key =
                        new String(r.key(), java.nio.charset.StandardCharsets.UTF_8)
                            .replaceAll("#+$", "");
                    Waiter w = waiting.get(key);
                    if (w != null && Bench.stampOf(r.value()) == w.stamp()) {
                      w.seen().complete(System.nanoTime());
                    }
                  }
                }
              } catch (RuntimeException e) {
                ready.completeExceptionally(e);
                waiting.values().forEach(w -> w.seen().completeExceptionally(e));
              }
            },
            "bench-latency-consumer");
    poller.setDaemon(true);
    poller.start();
    KafkaProducer<byte[], byte[]> producer = PlainClients.producer(bench, "bench-latency-producer");
    try {
      ready.get(TIMEOUT_S, TimeUnit.SECONDS);
      for (int round = 1; round <= 2; round++) {
        int count = round == 1 ? warmup : samples;
        for (int i = 0; i < count; i++) {
          String key = Bench.key("lat", i);
          long stamp = stamp(round, i);
          var w = new Waiter(stamp, new CompletableFuture<>());
          waiting.put(key, w);
          long t0 = System.nanoTime();
          PlainClients.send(producer, topic, PlainClients.key(key, 24), bench.value(stamp))
              .get(TIMEOUT_S, TimeUnit.SECONDS);
          long ack = System.nanoTime();
          long visible = w.seen().get(TIMEOUT_S, TimeUnit.SECONDS);
          waiting.remove(key);
          if (round == 2) {
            ackToVisible[i] = visible - ack;
            callToVisible[i] = visible - t0;
          }
        }
      }
    } finally {
      producer.close();
      stop.set(true);
      poller.join(10_000);
    }
  }

  private static long[] subtract(long[] a, long[] b) {
    long[] out = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] - b[i];
    }
    return out;
  }
}
