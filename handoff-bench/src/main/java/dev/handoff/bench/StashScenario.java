package dev.handoff.bench;

import dev.handoff.StateHandoff;
import dev.handoff.internal.crdt.Hlc;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.util.Arrays;
import java.util.Locale;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Item 2. One Handoff node stashes states over a set of sessions it owns with a bounded number in
 * flight; a plain producer (acks=all, idempotent) sends records of the same key and value sizes to
 * a topic of the same layout with the same bound. Runs alternate; throughput is the median, ack
 * latencies are pooled over the runs.
 */
final class StashScenario {
  private static final String SCENARIO = "2 Stash";
  private final Bench bench;

  StashScenario(Bench bench) {
    this.bench = bench;
  }

  void run(ClientProfile profile) {
    var o = bench.options;
    String handoffTopic = "bench-stash-" + profile.id();
    String plainTopic = "bench-produce-" + profile.id();
    bench.createTopic(plainTopic);
    int keys = o.stashKeys();
    int m = o.stashes();
    int reps = o.repeats();
    StateHandoff<byte[]> node = bench.node(handoffTopic, "stasher-" + profile.id(), profile);
    KafkaDeltaLog log = bench.deltaLog("bench-append-" + profile.id(), "appender", profile).build();
    KafkaProducer<byte[], byte[]> producer = PlainClients.producer(bench, "bench-plain-producer");
    try {
      node.start().join();
      log.start(entry -> {}).join();
      // Keys are made once, outside the timed loops, for Handoff as for the producer.
      String[] sessions = new String[keys];
      for (int i = 0; i < keys; i++) {
        sessions[i] = Bench.key("s", i);
      }
      // Warm-up: the first stash of each session claims it; the timed ones are plain stashes.
      Pipelined claims =
          Pipelined.run(keys, o.inFlight(), i -> node.stash(sessions[i], bench.value(i)))
              .requireNoFailures("claiming the stash sessions");
      PlainClients.Shape shape = PlainClients.shapeOf(bench, handoffTopic, profile);
      byte[][] plainKeys = new byte[keys][];
      for (int i = 0; i < keys; i++) {
        plainKeys[i] = PlainClients.key(Bench.key("s", i), shape.keyBytes());
      }
      byte[] plainTemplate = new byte[shape.valueBytes()];
      Arrays.fill(plainTemplate, (byte) 7);
      Pipelined firstSends =
          Pipelined.run(
                  keys,
                  o.inFlight(),
                  i -> PlainClients.send(producer, plainTopic, plainKeys[i], plainTemplate.clone()))
              .requireNoFailures("producer warm-up");

      Pipelined.run(keys, o.inFlight(), i -> log.append(slot(sessions[i], i, bench.value(i))))
          .requireNoFailures("KafkaDeltaLog warm-up");

      double[] handoffRate = new double[reps];
      double[] appendRate = new double[reps];
      long[] appendLat = new long[reps * m];
      double[] plainRate = new double[reps];
      double[] tailedRate = new double[reps];
      long[] handoffLat = new long[reps * m];
      long[] plainLat = new long[reps * m];
      for (int r = 0; r < reps; r++) {
        int round = r;
        Pipelined h =
            Pipelined.run(
                    m,
                    o.inFlight(),
                    i -> node.stash(sessions[i % keys], bench.value((long) (round + 1) * m + i)))
                .requireNoFailures("stash");
        Pipelined p =
            Pipelined.run(
                    m,
                    o.inFlight(),
                    i ->
                        PlainClients.send(
                            producer, plainTopic, plainKeys[i % keys], plainTemplate.clone()))
                .requireNoFailures("plain producer");
        Pipelined a =
            Pipelined.run(
                    m,
                    o.inFlight(),
                    i ->
                        log.append(
                            slot(
                                sessions[i % keys],
                                (long) (round + 1) * m + i,
                                bench.value((long) (round + 1) * m + i))))
                .requireNoFailures("KafkaDeltaLog.append");
        Pipelined t;
        try (var tail = new Tail(bench, plainTopic, profile)) {
          t =
              Pipelined.run(
                      m,
                      o.inFlight(),
                      i ->
                          PlainClients.send(
                              producer, plainTopic, plainKeys[i % keys], plainTemplate.clone()))
                  .requireNoFailures("plain producer with a tailing consumer");
        }
        tailedRate[r] = t.perSecond();
        appendRate[r] = a.perSecond();
        System.arraycopy(a.latencies(), 0, appendLat, r * m, m);
        handoffRate[r] = h.perSecond();
        plainRate[r] = p.perSecond();
        System.arraycopy(h.latencies(), 0, handoffLat, r * m, m);
        System.arraycopy(p.latencies(), 0, plainLat, r * m, m);
        System.out.printf(
            Locale.ROOT,
            "stash [%s] rep %d: Handoff %,.0f/s, KafkaDeltaLog.append %,.0f/s, producer %,.0f/s,"
                + " producer with a tailing consumer %,.0f/s%n",
            profile.id(),
            r + 1,
            h.perSecond(),
            a.perSecond(),
            p.perSecond(),
            t.perSecond());
      }
      var hs = new Samples(handoffLat, handoffLat.length);
      var ps = new Samples(plainLat, plainLat.length);
      double hr = Samples.median(handoffRate);
      double pr = Samples.median(plainRate);
      String tag = " [" + profile.label() + "]";
      var rep = bench.report;
      // Measured once, cold, as the warm-ups they are: each first stash is a claim at epoch 1.
      rep.add(
          Figure.versus(
                  SCENARIO,
                  String.format(
                      Locale.ROOT,
                      "first stashes (claims)/s, %,d new sessions, %d in flight, once, cold%s",
                      keys,
                      o.inFlight(),
                      tag),
                  claims.perSecond(),
                  "plain KafkaProducer's first sends, same keys, bytes and bound",
                  firstSends.perSecond(),
                  claims.perSecond() / firstSends.perSecond(),
                  "",
                  null)
              .withId("stash." + profile.id() + ".first_stash_per_s"));
      rep.add(
          Figure.versus(
              SCENARIO,
              String.format(
                  Locale.ROOT,
                  "stashes/s, %d B states, %d in flight%s",
                  o.valueBytes(),
                  o.inFlight(),
                  tag),
              hr,
              "plain KafkaProducer, acks=all, idempotent, same bytes and bound",
              pr,
              hr / pr,
              "≥ 0.8× producer",
              hr / pr >= 0.8));
      rep.add(
          Figure.versus(
              SCENARIO,
              "ack latency p50, ms" + tag,
              hs.p50(),
              "plain KafkaProducer",
              ps.p50(),
              hs.p50() / ps.p50(),
              "",
              null));
      rep.add(
          Figure.versus(
              SCENARIO,
              "ack latency p99, ms" + tag,
              hs.p99(),
              "plain KafkaProducer",
              ps.p99(),
              hs.p99() / ps.p99(),
              "",
              null));
      var as = new Samples(appendLat, appendLat.length);
      double ar = Samples.median(appendRate);
      rep.add(
          Figure.versus(
              SCENARIO,
              "breakdown: KafkaDeltaLog.append alone (its reader following the topic), records/s"
                  + tag,
              ar,
              "plain KafkaProducer",
              pr,
              ar / pr,
              "",
              null));
      rep.add(
          Figure.versus(
              SCENARIO,
              "breakdown: KafkaDeltaLog.append ack latency p50, ms" + tag,
              as.p50(),
              "plain KafkaProducer",
              ps.p50(),
              as.p50() / ps.p50(),
              "",
              null));
      double tr = Samples.median(tailedRate);
      rep.add(
          Figure.versus(
              SCENARIO,
              "breakdown: plain KafkaProducer while a bare consumer tails its topic, records/s"
                  + tag,
              tr,
              "plain KafkaProducer",
              pr,
              tr / pr,
              "",
              null));
      rep.add(
          Figure.versus(
              SCENARIO,
              "stashes/s against the producer with a tailing consumer (a node always reads its"
                  + " own topic)"
                  + tag,
              hr,
              "plain KafkaProducer + bare consumer tailing",
              tr,
              hr / tr,
              "",
              null));
      rep.note(
          String.format(
              Locale.ROOT,
              "Stash%s: %,d timed stashes per run over %,d owned sessions, %d runs alternating with"
                  + " the producer; producer records %d B key + %d B value, the average sizes of"
                  + " Handoff's own records in its topic. A stash completes at the broker's"
                  + " acknowledgement; the node's reader also reads every record back and applies"
                  + " it, which the tailing-consumer row prices without Handoff.",
              tag,
              m,
              keys,
              reps,
              shape.keyBytes(),
              shape.valueBytes()));
    } finally {
      producer.close();
      log.close();
      Bench.closeQuietly(node);
    }
  }

  /** A record as a node's stash writes it: one writer owning the session since epoch 1. */
  private static SlotRecord slot(String session, long seq, byte[] value) {
    return new SlotRecord(
        session,
        "appender#1",
        new SlotState(
            1, SlotState.SELF, seq + 1, Hlc.of(System.currentTimeMillis(), 0), value, false));
  }
}
