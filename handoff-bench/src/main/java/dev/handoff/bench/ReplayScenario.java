package dev.handoff.bench;

import dev.handoff.StateHandoff;
import dev.handoff.internal.crdt.Hlc;
import dev.handoff.kafka.DerivedClientSettings;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.kafka.ReplayProgress;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Items 1 (replay) and 4 (memory). A writer node stashes N sessions; then, alternating, (a) a bare
 * KafkaConsumer reads the topic to its end offsets and discards, (b) Kafka Streams loads it into a
 * GlobalKTable (RocksDB, the default store, and the in-memory store) and into a KTable (with the
 * source topic reused as its changelog and restored, and with the default topology, which reads the
 * topic as input and writes a changelog), (c) a fresh Handoff node starts until ready. All read
 * with KafkaDeltaLog's consumer settings. Then the heap of a ready replica holding the N sessions
 * is compared with a plain HashMap of the same keys and values.
 */
final class ReplayScenario {
  private static final String SCENARIO = "1 Replay";
  private static final ClientProfile PROFILE = ClientProfile.LIBRARY_DEFAULTS;

  /**
   * Above this many sessions the warm-up runs read a topic of this many sessions instead of the
   * measured one: at 1M a warm-up on the full topic would double a long run for no better JIT.
   */
  static final int WARMUP_SESSIONS_MAX = 100_000;

  /**
   * Below this many sessions (the smoke size) the KTable baselines get no warm-up run of their own
   * (the GlobalKTable warm-up has loaded Streams already): it would cost CI seconds for figures
   * nobody reads.
   */
  static final int KTABLE_WARMUP_MIN = 10_000;

  /**
   * A bare consumer tuned for bulk reading, the practical limit of a replay (issue 17): large
   * fetches, large polls, a short fetch wait.
   */
  static final Map<String, Object> TUNED_CONSUMER =
      Map.of(
          ConsumerConfig.FETCH_MAX_BYTES_CONFIG,
          64 << 20,
          ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
          16 << 20,
          ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
          10_000,
          ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
          10);

  /** How long one Kafka Streams load may take before it is stopped and reported as a bound. */
  static final Duration STREAMS_BOUND = Duration.ofMinutes(10);

  /**
   * One timed load. {@code phaseNanos}: the reading part alone (seek to end offsets reached). A
   * load that is not {@code complete} was stopped at a time bound; {@code totalNanos} is then the
   * bound.
   */
  record Run(long totalNanos, long phaseNanos, long records, long bytes, boolean complete) {
    Run(long totalNanos, long phaseNanos, long records, long bytes) {
      this(totalNanos, phaseNanos, records, bytes, true);
    }
  }

  /** How the KTable baseline is configured and started. */
  enum KTableMode {
    /**
     * {@code topology.optimization=reuse.ktable.source.topics}: the source topic is the store's
     * changelog. The instance starts with an empty state directory in a group that has committed
     * the topic's end offsets (as a replacement instance of a running application would), so the
     * store is restored from the source topic up to those offsets.
     */
    REUSE_SOURCE,
    /**
     * The default topology: the first start of the application reads the topic as ordinary input
     * through its consumer group and writes every record to the store's changelog topic.
     */
    DEFAULT_TOPOLOGY
  }

  private final Bench bench;
  private final String topic = "bench-replay";
  private final int n;
  private final String warmTopic;
  private final int warmN;

  ReplayScenario(Bench bench) {
    this.bench = bench;
    this.n = bench.options.sessions();
    this.warmN = Math.min(n, WARMUP_SESSIONS_MAX);
    this.warmTopic = warmN < n ? "bench-replay-warmup" : topic;
  }

  void run(boolean replay, boolean memory) throws Exception {
    populate(topic, n);
    if (replay) {
      if (!warmTopic.equals(topic)) {
        populate(warmTopic, warmN);
      }
      compareReplay();
    }
    if (memory) {
      compareMemory();
    }
  }

  /**
   * Writes one record per session exactly as a node's first stash of a new session does (a claim at
   * epoch 1 by one writer, consecutive sequence numbers), through KafkaDeltaLog itself; faster than
   * a node's stash() because nothing waits for the read-back.
   */
  private void populate(String topic, int n) {
    System.out.printf(
        Locale.ROOT,
        "replay: writing %,d sessions of %d B to %s%n",
        n,
        bench.options.valueBytes(),
        topic);
    KafkaDeltaLog log = bench.deltaLog(topic, "replay-writer", PROFILE).build();
    try {
      log.start(entry -> {}).join();
      long hlcBase = System.currentTimeMillis();
      int bound = Math.max(1024, bench.options.inFlight());
      Pipelined p =
          Pipelined.run(
                  n,
                  bound,
                  i ->
                      log.append(
                          new SlotRecord(
                              Bench.key("session", i),
                              "replay-writer#1",
                              new SlotState(
                                  1,
                                  SlotState.SELF,
                                  i + 1L,
                                  Hlc.of(hlcBase + i / 1000, i % 1000),
                                  bench.value(i),
                                  false))))
              .requireNoFailures("writing the replay topic");
      bench.report.note(
          String.format(
              Locale.ROOT,
              "Replay topic%s: %,d sessions written through KafkaDeltaLog.append in %.1f s (%,.0f"
                  + " records/s, %d in flight), one record per session, as a node's first stash"
                  + " writes it.",
              topic.equals(this.topic) ? "" : " for the warm-up runs (" + topic + ")",
              n,
              p.elapsedNanos() / 1e9,
              p.perSecond(),
              bound));
    } finally {
      log.close();
    }
  }

  /**
   * How a contender loads {@code topic} ({@code sessions} sessions) once; {@code rep} -1: warm-up.
   */
  @FunctionalInterface
  interface Load {
    Run run(String topic, int sessions, int rep) throws Exception;
  }

  /**
   * One contender of the replay comparison: {@code id} names it in the progress lines, {@code
   * label} in the report; {@code streamsBaseline}: a Kafka Streams load that a fresh Handoff node
   * must beat twice over (a report row of its own); {@code warmsUp}: it loads in the untimed
   * warm-up run too; {@code runs}: its timed loads, one per rep.
   */
  record Contender(
      String id,
      String label,
      boolean streamsBaseline,
      boolean warmsUp,
      Load load,
      List<Run> runs) {
    Contender(String id, String label, boolean streamsBaseline, boolean warmsUp, Load load) {
      this(id, label, streamsBaseline, warmsUp, load, new ArrayList<>());
    }

    Run last() {
      return runs.get(runs.size() - 1);
    }

    /** Median of the timed loads, s. */
    double median() {
      return Samples.median(runs.stream().mapToDouble(Run::totalNanos).toArray()) / 1e9;
    }

    /** Median of the timed loads' reading (or restoring) phase, s. */
    double medianPhase() {
      return Samples.median(runs.stream().mapToDouble(Run::phaseNanos).toArray()) / 1e9;
    }

    /** The fastest timed load, s. */
    double best() {
      return runs.stream().mapToDouble(Run::totalNanos).min().orElse(Double.NaN) / 1e9;
    }

    /** True if a timed load was stopped at {@link ReplayScenario#STREAMS_BOUND}. */
    boolean bounded() {
      return runs.stream().anyMatch(r -> !r.complete());
    }

    /** The label, marked as a lower bound if a timed load was stopped at the bound. */
    String reportLabel() {
      return label + (bounded() ? " (stopped at the bound: a lower bound)" : "");
    }
  }

  private void compareReplay() throws Exception {
    int reps = bench.options.repeats();
    String emptyTopic = "bench-replay-empty";
    boolean ktWarmsUp = warmN >= KTABLE_WARMUP_MIN;
    var bare =
        new Contender(
            "bare",
            "(a) bare KafkaConsumer",
            false,
            true,
            (t, s, r) -> bareConsumer(t, bench.consumerConfig(PROFILE, "bench-bare-" + r)));
    var tuned =
        new Contender(
            "bare tuned",
            "(a') bare KafkaConsumer, tuned (fetch.max.bytes 64 MiB, max.partition.fetch.bytes 16"
                + " MiB, max.poll.records 10,000, fetch.max.wait.ms 10)",
            false,
            true,
            (t, s, r) -> bareConsumer(t, tunedConfig("bench-bare-tuned-" + r)));
    var derived =
        new Contender(
            "bare with Handoff's settings",
            "(a'') bare KafkaConsumer with Handoff's derived client settings (memoryBudget of this"
                + " heap)",
            false,
            true,
            (t, s, r) ->
                bareConsumer(
                    t,
                    DerivedClientSettings.consumer(
                        bench.bootstrap(),
                        "bench-bare-derived-" + r,
                        bench.options.partitions(),
                        Runtime.getRuntime().maxMemory())));
    var derivedReplay =
        new Contender(
            "bare with Handoff's replay settings",
            "(a''') bare KafkaConsumer with Handoff's replay consumer settings (memoryBudget of this"
                + " heap)",
            false,
            true,
            (t, s, r) ->
                bareConsumer(
                    t,
                    DerivedClientSettings.replayConsumer(
                        bench.bootstrap(),
                        "bench-bare-replay-" + r,
                        bench.options.partitions(),
                        Runtime.getRuntime().maxMemory())));
    var rocks =
        new Contender(
            "GlobalKTable RocksDB",
            "(b) Streams GlobalKTable, RocksDB store (default), new KafkaStreams → RUNNING",
            true,
            true,
            (t, s, r) -> streams(t, s, r, false, false));
    var mem =
        new Contender(
            "in-memory",
            "(b') Streams GlobalKTable, in-memory store",
            true,
            true,
            (t, s, r) -> streams(t, s, r, true, false));
    var memTuned =
        new Contender(
            "in-memory tuned",
            "(b't) Streams GlobalKTable, in-memory store, global consumer tuned as (a')",
            false,
            true,
            (t, s, r) -> streams(t, s, r, true, true));
    var ktReuse =
        new Contender(
            "KTable reusing the source topic",
            "(b'') Streams KTable, RocksDB, reuse.ktable.source.topics: new instance, empty state"
                + " dir, restores from the topic; new KafkaStreams → store holds every session",
            true,
            ktWarmsUp,
            (t, s, r) -> ktable(t, s, r < 0 ? "warmup" : "r" + r, KTableMode.REUSE_SOURCE));
    var ktPlain =
        new Contender(
            "KTable default topology",
            "(b''') Streams KTable, RocksDB, default topology: first start, reads the topic as"
                + " input, writes a changelog; new KafkaStreams → store holds every session",
            true,
            ktWarmsUp,
            (t, s, r) -> ktable(t, s, r < 0 ? "warmup" : "r" + r, KTableMode.DEFAULT_TOPOLOGY));
    var empty =
        new Contender(
            "Handoff on empty topic",
            "fresh node on an empty topic",
            false,
            true,
            (t, s, r) -> handoff(emptyTopic, 0, r < 0 ? "empty-warmup" : "empty-" + r, Map.of()));
    var logOnly =
        new Contender(
            "KafkaDeltaLog alone", "KafkaDeltaLog alone", false, true, this::deltaLogOnly);
    var handoff =
        new Contender(
            "Handoff",
            "fresh node",
            false,
            true,
            (t, s, r) -> handoff(t, s, r < 0 ? "replica-warmup" : "replica-" + r, Map.of()));
    var steadyOnly =
        new Contender(
            "Handoff, one consumer",
            "fresh node replaying with its steady consumer settings (given as client properties:"
                + " one consumer, no replay consumer)",
            false,
            true,
            (t, s, r) ->
                handoff(
                    t,
                    s,
                    r < 0 ? "steady-warmup" : "steady-" + r,
                    DerivedClientSettings.steadyFetchSettings(
                        bench.options.partitions(), Runtime.getRuntime().maxMemory())));
    // Every rep (and the warm-up run) loads with each contender in turn, in this order.
    List<Contender> contenders =
        List.of(
            bare,
            tuned,
            derived,
            derivedReplay,
            rocks,
            mem,
            memTuned,
            ktReuse,
            ktPlain,
            empty,
            logOnly,
            steadyOnly,
            handoff);

    // The empty topic exists before the timed runs, as the replay topic does.
    try (KafkaDeltaLog emptyLog = bench.deltaLog(emptyTopic, "empty", PROFILE).build()) {
      emptyLog.start(entry -> {}).join();
    }
    // Run -1 warms every contender up (class loading, JIT) and is not counted.
    long w0 = System.nanoTime();
    for (Contender c : contenders) {
      if (c.warmsUp()) {
        c.load().run(warmTopic, warmN, -1);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "replay: warm-up run on %s (%,d sessions) done in %.1f s%n",
        warmTopic,
        warmN,
        (System.nanoTime() - w0) / 1e9);
    for (int r = 0; r < reps; r++) {
      var line = new StringJoiner(", ", "replay rep " + (r + 1) + ": ", "");
      for (Contender c : contenders) {
        Bench.usedHeapAfterGc();
        Run run = c.load().run(topic, n, r);
        c.runs().add(run);
        line.add(
            String.format(
                Locale.ROOT,
                "%s %.2f s (reading %.2f s)%s",
                c.id(),
                run.totalNanos() / 1e9,
                run.phaseNanos() / 1e9,
                run.complete() ? "" : " (stopped at the bound)"));
      }
      System.out.println(line);
    }

    long records = bare.last().records();
    long bytes = bare.last().bytes();
    double tBare = bare.median();
    double tHandoff = handoff.median();
    String sizeText = String.format(Locale.ROOT, "%,d records, %.0f MB", records, bytes / 1e6);
    var rep = bench.report;
    double rateHandoff = records / tHandoff;
    double rateBare = records / tBare;
    rep.add(
        Figure.versus(
                SCENARIO,
                handoff.label() + " to ready, records/s (" + sizeText + ")",
                rateHandoff,
                bare.label() + ", assign → end offsets",
                rateBare,
                rateHandoff / rateBare,
                "≥ 0.8× (a)",
                rateHandoff / rateBare >= 0.8)
            .withId("replay.node_records_per_s"));
    double rateTuned = records / tuned.median();
    rep.add(
        Figure.versus(
                SCENARIO,
                handoff.label() + " to ready, records/s, against the tuned bare consumer",
                rateHandoff,
                tuned.label() + ", assign → end offsets",
                rateTuned,
                rateHandoff / rateTuned,
                "≥ 0.8× (a')",
                rateHandoff / rateTuned >= 0.8)
            .withId("replay.node_vs_tuned_bare"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "breakdown: "
                    + logOnly.label()
                    + " (discarding sink), start() → ready, records/s, against the tuned bare"
                    + " consumer",
                records / logOnly.median(),
                tuned.label(),
                rateTuned,
                (records / logOnly.median()) / rateTuned,
                "",
                null)
            .withId("replay.log_only_vs_tuned_bare"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "baseline: " + derived.label() + ", records/s",
                records / derived.median(),
                tuned.label(),
                rateTuned,
                (records / derived.median()) / rateTuned,
                "",
                null)
            .withId("replay.derived_bare_vs_tuned_bare"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "baseline: " + bare.label() + " (untuned), records/s",
                rateBare,
                tuned.label(),
                rateTuned,
                rateBare / rateTuned,
                "",
                null)
            .withId("replay.bare_vs_tuned_bare"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "baseline: " + derivedReplay.label() + ", records/s",
                records / derivedReplay.median(),
                tuned.label(),
                rateTuned,
                (records / derivedReplay.median()) / rateTuned,
                "",
                null)
            .withId("replay.derived_replay_bare_vs_tuned_bare"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "breakdown: " + steadyOnly.label() + " to ready, records/s",
                records / steadyOnly.median(),
                tuned.label(),
                rateTuned,
                (records / steadyOnly.median()) / rateTuned,
                "",
                null)
            .withId("replay.one_consumer_node_vs_tuned_bare"));
    rep.add(
        Figure.versus(
                SCENARIO,
                handoff.label() + " to ready, s (ratio: times faster)",
                tHandoff,
                memTuned.reportLabel(),
                memTuned.median(),
                memTuned.median() / tHandoff,
                "",
                null)
            .withId("replay.node_vs_gkt_mem_tuned"));
    rep.add(
        Figure.versus(
                SCENARIO,
                handoff.label() + " to ready, MB/s",
                bytes / 1e6 / tHandoff,
                bare.label(),
                bytes / 1e6 / tBare,
                tBare / tHandoff,
                "",
                null)
            .withId("replay.node_mb_per_s"));
    Map<Contender, String> streamsIds =
        Map.of(
            rocks, "replay.node_vs_gkt_rocksdb",
            mem, "replay.node_vs_gkt_mem",
            ktReuse, "replay.node_vs_ktable_reuse",
            ktPlain, "replay.node_vs_ktable_default");
    for (Contender c : contenders) {
      if (c.streamsBaseline()) {
        rep.add(
            Figure.versus(
                    SCENARIO,
                    handoff.label() + " to ready, s (ratio: times faster)",
                    tHandoff,
                    c.reportLabel(),
                    c.median(),
                    c.median() / tHandoff,
                    "≥ 2× faster than (b)",
                    c.median() / tHandoff >= 2)
                .withId(streamsIds.get(c)));
      }
    }
    rep.add(
        Figure.versus(
                SCENARIO,
                "reading phase only (seek → end offsets), records/s",
                records / handoff.medianPhase(),
                bare.label() + ", seek → end offsets",
                records / bare.medianPhase(),
                bare.medianPhase() / handoff.medianPhase(),
                "",
                null)
            .withId("replay.reading_phase_records_per_s"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "breakdown: " + logOnly.label() + " (discarding sink), start() → ready, records/s",
                records / logOnly.median(),
                bare.label() + ", assign → end offsets",
                rateBare,
                (records / logOnly.median()) / rateBare,
                "",
                null)
            .withId("replay.log_only_records_per_s"));
    rep.add(
        Figure.versus(
                SCENARIO,
                "breakdown: " + logOnly.label() + ", reading phase only, records/s",
                records / logOnly.medianPhase(),
                bare.label() + ", seek → end offsets",
                records / bare.medianPhase(),
                bare.medianPhase() / logOnly.medianPhase(),
                "",
                null)
            .withId("replay.log_only_reading_records_per_s"));
    rep.add(
        Figure.plain(
                SCENARIO,
                "breakdown: " + empty.label() + ", start() → ready, s (fixed cost)",
                empty.median())
            .withId("replay.empty_topic_fixed_cost_s"));
    rep.note(
        String.format(
            Locale.ROOT,
            "Replay best of %d: bare consumer %.3f s (tuned %.3f s, with Handoff's settings %.3f"
                + " s, with its replay settings %.3f s), GlobalKTable RocksDB %.3f s, in-memory %.3f"
                + " s (tuned %.3f s), KTable reusing the source topic %.3f s, KTable default topology %.3f s,"
                + " KafkaDeltaLog alone %.3f s, Handoff %.3f s (with one consumer %.3f s), Handoff on an empty topic %.3f s.",
            reps,
            bare.best(),
            tuned.best(),
            derived.best(),
            derivedReplay.best(),
            rocks.best(),
            mem.best(),
            memTuned.best(),
            ktReuse.best(),
            ktPlain.best(),
            logOnly.best(),
            handoff.best(),
            steadyOnly.best(),
            empty.best()));
    rep.note(
        String.format(
            Locale.ROOT,
            "Replay medians of %d alternating runs after one warm-up run of each%s: bare consumer"
                + " %.3f s (reading %.3f s), GlobalKTable RocksDB %.3f s, GlobalKTable in-memory"
                + " %.3f s, KTable reusing the source topic %.3f s (of which restoring %.3f s),"
                + " KTable default topology %.3f s, Handoff start() %.3f s of which its reader took"
                + " %.3f s (the rest: ZooKeeper join, topic check, producer and writer-schema"
                + " publication, announce). Consumers: max.poll.records=%d for all (KafkaDeltaLog's"
                + " value; Streams' global, main and restore consumers set to it), other consumer"
                + " settings Kafka defaults.",
            reps,
            warmTopic.equals(topic)
                ? ""
                : String.format(Locale.ROOT, " (the warm-up read a topic of %,d sessions)", warmN),
            tBare,
            bare.medianPhase(),
            rocks.median(),
            mem.median(),
            ktReuse.median(),
            ktReuse.medianPhase(),
            ktPlain.median(),
            tHandoff,
            handoff.medianPhase(),
            Bench.MAX_POLL_RECORDS));
    rep.note(
        "KTable baselines: builder.table(topic, Materialized.as(store)) with the default RocksDB"
            + " store, its record cache and commit interval, one stream thread, the classic group"
            + " protocol; a new application id and state directory per run. (b'') is the"
            + " configuration recommended for a table over a compacted topic"
            + " (topology.optimization=reuse.ktable.source.topics): the source topic is the"
            + " changelog, and a new instance with an empty state directory, in a group that has"
            + " committed the topic's end offsets (committed beforehand, untimed, as a running"
            + " application leaves them), restores the store from the topic before it processes."
            + " (b''') is the default topology started for the first time: it reads the topic as"
            + " input through its consumer group and writes every record to its changelog topic."
            + " Both are timed from new KafkaStreams until an interactive query (default: active,"
            + " running tasks only) finds the last record of every partition in the store; the"
            + " store is then counted to hold every session. Each run's internal topics, consumer"
            + " group and state directory are deleted afterwards."
            + (ktReuse.bounded() || ktPlain.bounded()
                ? String.format(
                    Locale.ROOT,
                    " A KTable run was stopped at %d s: its figure is a lower bound.",
                    STREAMS_BOUND.toSeconds())
                : ""));
  }

  /**
   * The tuned bare consumer's configuration: the baselines' settings with {@link #TUNED_CONSUMER}.
   */
  private Map<String, Object> tunedConfig(String clientId) {
    Map<String, Object> c = bench.consumerConfig(PROFILE, clientId);
    c.putAll(TUNED_CONSUMER);
    return c;
  }

  /** A bare consumer with {@code config}: assign, seekToBeginning, poll to the end offsets. */
  private Run bareConsumer(String topic, Map<String, Object> config) {
    long t0 = System.nanoTime();
    long records = 0;
    long bytes = 0;
    long sink = 0;
    try (var consumer = new KafkaConsumer<Object, Object>(config)) {
      List<TopicPartition> tps =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps);
      long p0 = System.nanoTime();
      while (!reached(consumer, end)) {
        for (ConsumerRecord<Object, Object> r : consumer.poll(Duration.ofMillis(100))) {
          records++;
          bytes += Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
          sink ^= r.offset();
        }
      }
      long t1 = System.nanoTime();
      if (sink == 42) {
        System.out.print("");
      }
      return new Run(t1 - t0, t1 - p0, records, bytes);
    }
  }

  private static boolean reached(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
    for (var e : end.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private Run streams(String topic, int expected, int rep, boolean inMemory, boolean tunedConsumer)
      throws Exception {
    String app =
        "bench-gkt-" + (inMemory ? "mem" : "rocksdb") + (tunedConsumer ? "-tuned" : "") + "-" + rep;
    Path stateDir = bench.tmp.resolve("streams-" + app + "-" + System.nanoTime());
    Properties p = streamsProperties(app, stateDir, StreamsConfig::globalConsumerPrefix);
    if (tunedConsumer) {
      TUNED_CONSUMER.forEach((k, v) -> p.put(StreamsConfig.globalConsumerPrefix(k), v));
    }
    String storeName = "sessions";
    Materialized<byte[], byte[], KeyValueStore<Bytes, byte[]>> materialized =
        inMemory
            ? Materialized.as(Stores.inMemoryKeyValueStore(storeName))
            : Materialized.as(storeName);
    var builder = new StreamsBuilder();
    builder.globalTable(
        topic,
        Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()),
        materialized.withKeySerde(Serdes.ByteArray()).withValueSerde(Serdes.ByteArray()));
    var restoring = new RestoreSpan();
    var running = new CountDownLatch(1);
    var error = new AtomicReference<String>();
    long t0 = System.nanoTime();
    var streams = new KafkaStreams(builder.build(), p);
    try {
      streams.setStateListener(
          (now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
              running.countDown();
            } else if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_ERROR) {
              error.set("Kafka Streams went " + now);
              running.countDown();
            }
          });
      streams.setGlobalStateRestoreListener(restoring);
      streams.start();
      if (!running.await(STREAMS_BOUND.toMillis(), TimeUnit.MILLISECONDS) || error.get() != null) {
        throw new IllegalStateException(
            app + " did not reach RUNNING: " + (error.get() == null ? "timeout" : error.get()));
      }
      long t1 = System.nanoTime();
      long count =
          count(
              streams.store(
                  StoreQueryParameters.fromNameAndType(
                      storeName, QueryableStoreTypes.<byte[], byte[]>keyValueStore())));
      if (count < expected) {
        throw new IllegalStateException(
            app + " is RUNNING but its store holds " + count + " entries, expected >= " + expected);
      }
      long phase = restoring.ended() ? restoring.nanos() : t1 - t0;
      return new Run(t1 - t0, phase, count, 0);
    } finally {
      streams.close(Duration.ofSeconds(30));
      streams.cleanUp();
      deleteQuietly(stateDir);
    }
  }

  /**
   * Kafka Streams materialising a KTable from the topic, timed from {@code new KafkaStreams} until
   * an interactive query finds the last record of every partition in the store (records of one
   * partition are applied in offset order, so the store then holds the whole partition); the store
   * is then counted. Stopped at {@link #STREAMS_BOUND}; such a run is returned incomplete.
   */
  private Run ktable(String topic, int expected, String label, KTableMode mode) throws Exception {
    String app =
        "bench-kt-"
            + (mode == KTableMode.REUSE_SOURCE ? "reuse" : "default")
            + "-"
            + label
            + "-"
            + System.nanoTime();
    Path stateDir = bench.tmp.resolve("streams-" + app);
    String storeName = "sessions";
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bench.bootstrap()))) {
      try {
        Map<TopicPartition, byte[]> lastKeys = lastKeys(topic);
        if (mode == KTableMode.REUSE_SOURCE) {
          Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
          endOffsets(topic).forEach((tp, end) -> committed.put(tp, new OffsetAndMetadata(end)));
          admin.alterConsumerGroupOffsets(app, committed).all().get(30, TimeUnit.SECONDS);
        }
        Properties p = streamsProperties(app, stateDir, StreamsConfig::consumerPrefix);
        p.put(
            StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG,
            mode == KTableMode.REUSE_SOURCE
                ? StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS
                : StreamsConfig.NO_OPTIMIZATION);
        var builder = new StreamsBuilder();
        builder.table(
            topic,
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()),
            Materialized.<byte[], byte[], KeyValueStore<Bytes, byte[]>>as(storeName)
                .withKeySerde(Serdes.ByteArray())
                .withValueSerde(Serdes.ByteArray()));
        Topology topology = builder.build(p);
        var restoring = new RestoreSpan();
        var error = new AtomicReference<String>();
        long t0 = System.nanoTime();
        var streams = new KafkaStreams(topology, p);
        try {
          streams.setStateListener(
              (now, before) -> {
                if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_ERROR) {
                  error.set("Kafka Streams went " + now);
                }
              });
          streams.setGlobalStateRestoreListener(restoring);
          streams.start();
          var query =
              StoreQueryParameters.fromNameAndType(
                  storeName, QueryableStoreTypes.<byte[], byte[]>keyValueStore());
          long deadline = t0 + STREAMS_BOUND.toNanos();
          ReadOnlyKeyValueStore<byte[], byte[]> store = null;
          while (true) {
            if (error.get() != null) {
              throw new IllegalStateException(app + ": " + error.get());
            }
            if (System.nanoTime() - deadline > 0) {
              System.out.printf(
                  Locale.ROOT,
                  "replay: %s stopped at the %d s bound%n",
                  app,
                  STREAMS_BOUND.toSeconds());
              return new Run(STREAMS_BOUND.toNanos(), STREAMS_BOUND.toNanos(), 0, 0, false);
            }
            try {
              if (store == null) {
                store = streams.store(query);
              }
              if (holdsAll(store, lastKeys.values())) {
                break;
              }
            } catch (InvalidStateStoreException e) {
              store = null; // not queryable yet: starting, rebalancing or restoring
            }
            LockSupport.parkNanos(10_000_000L);
          }
          long t1 = System.nanoTime();
          long count = count(store);
          if (count < expected) {
            throw new IllegalStateException(
                app + " holds " + count + " entries in its store, expected >= " + expected);
          }
          long phase = restoring.ended() ? restoring.nanos() : 0;
          System.out.printf(
              Locale.ROOT,
              "replay: %s held %,d entries after %.2f s (restoring %.2f s)%n",
              app,
              count,
              (t1 - t0) / 1e9,
              phase / 1e9);
          return new Run(t1 - t0, phase, count, 0);
        } finally {
          streams.close(
              CloseOptions.groupMembershipOperation(
                      CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                  .withTimeout(Duration.ofSeconds(30)));
          streams.cleanUp();
        }
      } finally {
        deleteQuietly(stateDir);
        removeApplication(admin, app);
      }
    }
  }

  /** Deletes a Streams application's internal topics and consumer group; failures are printed. */
  private static void removeApplication(Admin admin, String app) {
    try {
      List<String> internal =
          admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
              .filter(t -> t.startsWith(app + "-"))
              .toList();
      if (!internal.isEmpty()) {
        admin.deleteTopics(internal).all().get(60, TimeUnit.SECONDS);
      }
      admin.deleteConsumerGroups(List.of(app)).all().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      System.out.println("replay: could not remove everything of " + app + ": " + e);
    }
  }

  private static boolean holdsAll(
      ReadOnlyKeyValueStore<byte[], byte[]> store, Iterable<byte[]> keys) {
    for (byte[] key : keys) {
      if (store.get(key) == null) {
        return false;
      }
    }
    return true;
  }

  /** The settings every Streams baseline shares; {@code prefix} picks the consumer they reach. */
  private Properties streamsProperties(
      String app, Path stateDir, java.util.function.UnaryOperator<String> prefix) {
    var p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bench.bootstrap());
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(prefix.apply(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), Bench.MAX_POLL_RECORDS);
    PROFILE.consumerProperties().forEach((k, v) -> p.put(prefix.apply(k), v));
    return p;
  }

  /** From the first store restore's start to the last one's end, over all partitions. */
  private static final class RestoreSpan implements StateRestoreListener {
    private final AtomicLong start = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong end = new AtomicLong();

    @Override
    public void onRestoreStart(TopicPartition tp, String store, long from, long to) {
      start.accumulateAndGet(System.nanoTime(), Math::min);
    }

    @Override
    public void onBatchRestored(TopicPartition tp, String store, long end, long count) {}

    @Override
    public void onRestoreEnd(TopicPartition tp, String store, long total) {
      end.accumulateAndGet(System.nanoTime(), Math::max);
    }

    boolean ended() {
      return end.get() > 0;
    }

    long nanos() {
      return end.get() - start.get();
    }
  }

  private static long count(ReadOnlyKeyValueStore<byte[], byte[]> store) {
    long count = 0;
    try (KeyValueIterator<byte[], byte[]> it = store.all()) {
      while (it.hasNext()) {
        if (it.next().value != null) {
          count++;
        }
      }
    }
    return count;
  }

  private Map<TopicPartition, Long> endOffsets(String topic) {
    try (var consumer =
        new KafkaConsumer<byte[], byte[]>(bench.consumerConfig(PROFILE, "bench-offsets"))) {
      List<TopicPartition> tps =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      return consumer.endOffsets(tps);
    }
  }

  /**
   * For every non-empty partition, the key whose first record in it comes last, read before a timed
   * run. Records of one partition are applied in offset order, so once the store holds these keys
   * it holds every key of the topic (later records only update keys seen before). Fails if such a
   * key was deleted by a later tombstone (the store would never hold it).
   */
  private Map<TopicPartition, byte[]> lastKeys(String topic) {
    try (var consumer =
        new KafkaConsumer<byte[], byte[]>(bench.consumerConfig(PROFILE, "bench-last-keys"))) {
      List<TopicPartition> tps =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(tps));
      end.values().removeIf(offset -> offset == 0);
      consumer.assign(List.copyOf(end.keySet()));
      consumer.seekToBeginning(end.keySet());
      Map<TopicPartition, java.util.Set<ByteBuffer>> seen = new HashMap<>();
      Map<TopicPartition, ByteBuffer> newest = new HashMap<>();
      java.util.Set<ByteBuffer> deleted = new java.util.HashSet<>();
      while (!reached(consumer, end)) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          ByteBuffer key = ByteBuffer.wrap(r.key() == null ? new byte[0] : r.key());
          if (r.value() == null) {
            deleted.add(key);
          } else {
            deleted.remove(key);
          }
          if (seen.computeIfAbsent(tp, t -> new java.util.HashSet<>()).add(key)) {
            newest.put(tp, key);
          }
        }
      }
      Map<TopicPartition, byte[]> keys = new HashMap<>();
      newest.forEach(
          (tp, key) -> {
            if (deleted.contains(key)) {
              throw new IllegalStateException(
                  "the newest key of "
                      + tp
                      + " ends in a tombstone: cannot tell when a KTable holds the partition");
            }
            keys.put(tp, key.array());
          });
      return keys;
    }
  }

  /** log-sync alone: the topic check, producer, schema publication and reader, no replica. */
  private Run deltaLogOnly(String topic, int expected, int rep) {
    var done = new AtomicReference<ReplayProgress>();
    var sunk = new AtomicLong();
    long t0 = System.nanoTime();
    var log =
        bench
            .deltaLog(topic, "log-only-" + rep, PROFILE)
            .listener(
                new KafkaDeltaLog.Listener() {
                  @Override
                  public void onReplayProgress(ReplayProgress progress) {
                    if (progress.done()) {
                      done.set(progress);
                    }
                  }
                })
            .build();
    try {
      log.start(entry -> sunk.incrementAndGet()).join();
      long t1 = System.nanoTime();
      if (sunk.get() < expected) {
        throw new IllegalStateException(
            "KafkaDeltaLog handed " + sunk + " records, expected " + expected);
      }
      ReplayProgress p = done.get();
      return new Run(t1 - t0, p.elapsed().toNanos(), p.records(), p.bytes());
    } finally {
      log.close();
    }
  }

  private Run handoff(
      String topic, int expected, String memberId, Map<String, Object> clientProperties) {
    var done = new AtomicReference<ReplayProgress>();
    KafkaDeltaLog.Listener listener =
        new KafkaDeltaLog.Listener() {
          @Override
          public void onReplayProgress(ReplayProgress progress) {
            if (progress.done()) {
              done.set(progress);
            }
          }
        };
    long t0 = System.nanoTime();
    StateHandoff<byte[]> node =
        bench.node(topic, memberId, "unknown", PROFILE, listener, clientProperties);
    try {
      node.start().join();
      long t1 = System.nanoTime();
      int sessions = node.stats().sessions();
      if (sessions < expected) {
        throw new IllegalStateException(
            "Handoff replica is ready with " + sessions + " sessions, expected " + expected);
      }
      ReplayProgress p = done.get();
      return new Run(t1 - t0, p.elapsed().toNanos(), p.records(), p.bytes());
    } finally {
      Bench.closeQuietly(node);
    }
  }

  private void compareMemory() {
    var rep = bench.report;
    // The plain map first, while nothing of ours is on the heap.
    long base0 = Bench.settledHeap();
    Map<String, byte[]> plain = new HashMap<>();
    for (int i = 0; i < n; i++) {
      plain.put(Bench.key("session", i), bench.value(i));
    }
    long base1 = Bench.settledHeap();
    double plainPerSession = (base1 - base0) / (double) n;
    if (plain.size() != n) {
      throw new AssertionError();
    }
    plain = null;
    long before = Bench.settledHeap();
    StateHandoff<byte[]> node = bench.node(topic, "replica-memory", PROFILE);
    double perSession;
    long estimated;
    var ref = new java.lang.ref.WeakReference<Object>(node);
    try {
      node.start().join();
      long after = Bench.settledHeap();
      perSession = (after - before) / (double) n;
      if (node.stats().sessions() < n) {
        throw new IllegalStateException("replica holds " + node.stats().sessions() + " sessions");
      }
      estimated = node.stats().metadataBytes();
    } finally {
      Bench.closeQuietly(node);
    }
    node = null;
    boolean collected = Bench.collectedWithin(ref, Duration.ofSeconds(20));
    if (!collected) {
      rep.note(
          "Memory: a closed StateHandoff node was still reachable 20 s after close(); its heap"
              + " stays in use (reported as a possible leak).");
    }
    int vb = bench.options.valueBytes();
    String at = String.format(Locale.ROOT, "%,d sessions × %d B", n, vb);
    rep.add(
        Figure.versus(
            "4 Memory",
            "heap per session on a ready replica, B (" + at + ")",
            perSession,
            "HashMap<String, byte[]> of the same keys and values",
            plainPerSession,
            perSession / plainPerSession,
            "",
            null));
    rep.add(
        Figure.versus(
            "4 Memory",
            "… minus the value bytes, B",
            perSession - vb,
            "HashMap<String, byte[]>, minus the value bytes",
            plainPerSession - vb,
            (perSession - vb) / (plainPerSession - vb),
            "",
            null));
    rep.note(
        String.format(
            Locale.ROOT,
            "Memory: used-heap delta after System.gc() around starting a replica of %s (whole node:"
                + " replica, session views, Kafka clients, ZooKeeper client); the replica's own"
                + " metadata estimate is %.0f B/session. DeltaCrdt (the seed) was measured at 1,778"
                + " B per 1 KiB entry.%s",
            at,
            estimated / (double) n,
            n < 1_000_000 ? " The 1M-session figure needs --size large (or --sessions 1M)." : ""));
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(ReplayScenario::delete);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // best effort: under target/
    }
  }
}
