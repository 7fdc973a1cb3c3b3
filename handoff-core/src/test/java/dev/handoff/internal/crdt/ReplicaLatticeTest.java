package dev.handoff.internal.crdt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.spi.LogEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The replica's state is a join-semilattice, and delivery order does not matter (I1). */
class ReplicaLatticeTest {

  @Provide
  Arbitrary<List<Records.Spec>> logs() {
    return Records.specs().list().ofMaxSize(24);
  }

  @Provide
  Arbitrary<List<Boolean>> masks() {
    return Arbitraries.of(true, false).list().ofSize(24);
  }

  @Property(tries = 300)
  void joinIsIdempotent(@ForAll("logs") List<Records.Spec> specs) {
    Replica a = Records.replicaOf(Records.log(specs));
    var before = a.entries();
    a.join(Records.replicaOf(Records.log(specs)));
    assertThat(a.entries()).isEqualTo(before);
  }

  @Property(tries = 300)
  void joinIsCommutative(
      @ForAll("logs") List<Records.Spec> specs,
      @ForAll("masks") List<Boolean> ma,
      @ForAll("masks") List<Boolean> mb) {
    var log = Records.log(specs);
    Replica ab = Records.replicaOf(Records.pick(log, ma));
    ab.join(Records.replicaOf(Records.pick(log, mb)));
    Replica ba = Records.replicaOf(Records.pick(log, mb));
    ba.join(Records.replicaOf(Records.pick(log, ma)));
    assertThat(ab.entries()).isEqualTo(ba.entries());
  }

  @Property(tries = 300)
  void joinIsAssociative(
      @ForAll("logs") List<Records.Spec> specs,
      @ForAll("masks") List<Boolean> ma,
      @ForAll("masks") List<Boolean> mb,
      @ForAll("masks") List<Boolean> mc) {
    var log = Records.log(specs);
    Replica left = Records.replicaOf(Records.pick(log, ma));
    left.join(Records.replicaOf(Records.pick(log, mb)));
    left.join(Records.replicaOf(Records.pick(log, mc)));
    Replica bc = Records.replicaOf(Records.pick(log, mb));
    bc.join(Records.replicaOf(Records.pick(log, mc)));
    Replica right = Records.replicaOf(Records.pick(log, ma));
    right.join(bc);
    assertThat(left.entries()).isEqualTo(right.entries());
  }

  @Property(tries = 300)
  void applyingDeltasOneByOneEqualsJoiningTheFullState(
      @ForAll("logs") List<Records.Spec> specs,
      @ForAll("masks") List<Boolean> ma,
      @ForAll("masks") List<Boolean> mb) {
    var log = Records.log(specs);
    Replica viaDeltas = Records.replicaOf(Records.pick(log, ma));
    Records.pick(log, mb).forEach(viaDeltas::apply);
    Replica viaState = Records.replicaOf(Records.pick(log, ma));
    viaState.join(Records.replicaOf(Records.pick(log, mb)));
    assertThat(viaDeltas.entries()).isEqualTo(viaState.entries());
    for (String s : Records.SESSIONS) {
      assertThat(viaDeltas.read(s)).as(s).isEqualTo(viaState.read(s));
    }
  }

  @Property(tries = 500)
  void replicasConvergeUnderReorderAndDuplication(
      @ForAll("logs") List<Records.Spec> specs, @ForAll long shuffleSeed) {
    var log = Records.log(specs);
    var random = new Random(shuffleSeed);
    var delivered = new ArrayList<LogEntry>(log);
    for (LogEntry e : log) {
      if (random.nextInt(3) == 0) {
        delivered.add(e);
      }
    }
    Collections.shuffle(delivered, random);
    Replica inOrder = Records.replicaOf(log);
    Replica shuffled = Records.replicaOf(delivered);
    assertThat(shuffled.entries()).isEqualTo(inOrder.entries());
    for (String s : Records.SESSIONS) {
      assertThat(shuffled.read(s)).as(s).isEqualTo(inOrder.read(s));
    }
    assertThat(shuffled.sessions()).isEqualTo(inOrder.sessions());
  }
}
