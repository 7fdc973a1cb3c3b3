package dev.handoff;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.CompactionModel.Claim;
import dev.handoff.CompactionModel.Cleanup;
import dev.handoff.CompactionModel.Compact;
import dev.handoff.CompactionModel.End;
import dev.handoff.CompactionModel.Op;
import dev.handoff.CompactionModel.RaceClaims;
import dev.handoff.CompactionModel.Retire;
import dev.handoff.CompactionModel.Stash;
import dev.handoff.CompactionModel.Sync;
import dev.handoff.CompactionModel.Tick;
import dev.handoff.CompactionModel.Zombie;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;
import org.junit.jupiter.api.Test;

/** I2: a replica rebuilt from the compacted log reads every session as one that read everything. */
class CompactionSafetyTest {

  @Property(tries = 1000)
  @StatisticsReport(StatisticsReport.StatisticsReportMode.OFF)
  void replicaRebuiltFromCompactedLogEqualsOneThatReadEverything(
      @ForAll("scenarios") List<Op> ops) {
    var model = CompactionModel.safe();
    for (Op op : ops) {
      model.run(op);
      if (op instanceof Compact) {
        assertThat(model.differences()).as("after %s", op).isEmpty();
      }
    }
    model.run(new Compact(100, 100));
    assertThat(model.differences()).as("after compacting everything").isEmpty();
    Statistics.label("claim races").collect(model.racesLost > 0);
    Statistics.label("zombie writes").collect(model.zombieWrites > 0);
    Statistics.label("records compacted away").collect(model.recordsCompactedAway > 0);
    Statistics.label("tombstones").collect(model.tombstonesAppended > 0);
    Statistics.label("tombstones dropped").collect(model.tombstonesDropped > 0);
    Statistics.label("claim races")
        .coverage(c -> c.check(true).percentage((Double p) -> p >= 30.0));
    Statistics.label("zombie writes")
        .coverage(c -> c.check(true).percentage((Double p) -> p >= 15.0));
    Statistics.label("records compacted away")
        .coverage(c -> c.check(true).percentage((Double p) -> p >= 50.0));
    Statistics.label("tombstones").coverage(c -> c.check(true).percentage((Double p) -> p >= 15.0));
  }

  @Test
  void keyingRecordsBySessionAloneLosesTheOwnerUnderCompaction() {
    var model = new CompactionModel(r -> r.session());
    List<Op> ops =
        List.of(
            new Claim(0, 0, 1, false), // a#1 claims s1 at epoch 1
            new Sync(0, 10),
            new Sync(1, 10),
            new Claim(1, 0, 0, true), // b#1 picks s1 up: epoch 2
            new Zombie(0, 0, 9, 1, false), // a#1, paused, writes under epoch 1
            new Compact(100, 0));
    ops.forEach(model::run);
    assertThat(model.differences())
        .containsExactly(
            "s1: full="
                + model.full().read("s1").orElseThrow()
                + " rebuilt="
                + model.rebuilt().read("s1").orElseThrow());
    assertThat(model.rebuilt().owner("s1")).contains("a#1");
    assertThat(model.full().owner("s1")).contains("b#1");

    var safe = CompactionModel.safe();
    ops.forEach(safe::run);
    assertThat(safe.differences()).isEmpty();
  }

  /** The same generator finds the flaw of session-only keys quickly: the model has teeth. */
  @Example
  void theModelCatchesSessionOnlyKeysInRandomScenarios() {
    long failing =
        scenarios()
            .sampleStream()
            .limit(300)
            .filter(
                ops -> {
                  var unsafe = new CompactionModel(r -> r.session());
                  ops.forEach(unsafe::run);
                  unsafe.run(new Compact(100, 100));
                  return !unsafe.differences().isEmpty();
                })
            .count();
    assertThat(failing)
        .as("scenarios out of 300 where session-only keys diverge")
        .isGreaterThan(100);
  }

  @Provide
  Arbitrary<List<Op>> scenarios() {
    var writer = Arbitraries.integers().between(0, CompactionModel.WRITERS.size() - 1);
    var session = Arbitraries.integers().between(0, CompactionModel.SESSIONS.size() - 1);
    var value = Arbitraries.integers().between(0, 9);
    Arbitrary<Op> stash = Combinators.combine(writer, session, value).as(Stash::new);
    Arbitrary<Op> claim =
        Combinators.combine(writer, session, value, Arbitraries.of(true, false)).as(Claim::new);
    Arbitrary<Op> race = Combinators.combine(writer, writer, session).as(RaceClaims::new);
    Arbitrary<Op> end = Combinators.combine(writer, session).as(End::new);
    Arbitrary<Op> cleanup = writer.map(Cleanup::new);
    Arbitrary<Op> zombie =
        Combinators.combine(
                writer,
                session,
                value,
                Arbitraries.integers().between(1, 2),
                Arbitraries.of(true, false))
            .as(Zombie::new);
    Arbitrary<Op> sync =
        Combinators.combine(writer, Arbitraries.integers().between(1, 30)).as(Sync::new);
    Arbitrary<Op> retire = writer.map(Retire::new);
    Arbitrary<Op> compact =
        Combinators.combine(
                Arbitraries.integers().between(0, 100), Arbitraries.integers().between(0, 100))
            .as(Compact::new);
    Arbitrary<Op> tick = Arbitraries.integers().between(1, 100).map(Tick::new);
    Arbitrary<Op> op =
        Arbitraries.frequencyOf(
            Tuple.of(6, stash),
            Tuple.of(3, claim),
            Tuple.of(3, race),
            Tuple.of(2, end),
            Tuple.of(6, cleanup),
            Tuple.of(5, zombie),
            Tuple.of(8, sync),
            Tuple.of(2, retire),
            Tuple.of(3, compact),
            Tuple.of(2, tick));
    return op.list().ofMinSize(5).ofMaxSize(60);
  }
}
