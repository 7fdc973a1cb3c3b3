package dev.handoff.internal.crdt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** I5: a zombie (old epoch) or a losing claimant never wins, whatever order records arrive in. */
class ZombieFencingTest {

  private static final String OWNER = "owner#7";
  private static final long CLAIM_OFFSET = 100;

  /** A record by someone who must not win: an old epoch, or a later claim of the same epoch. */
  record Intruder(int writer, int epochBack, boolean sameEpochLoser, int value, int offsetSlot) {
    @Override
    public String toString() {
      return "z"
          + writer
          + (sameEpochLoser ? " losing claim" : " epoch-" + epochBack)
          + " v"
          + value
          + " @slot"
          + offsetSlot;
    }
  }

  @Provide
  Arbitrary<List<Intruder>> intruders() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 2),
            Arbitraries.integers().between(1, 3),
            Arbitraries.of(true, false),
            Arbitraries.integers().between(0, 9),
            Arbitraries.integers().between(0, 199))
        .as(Intruder::new)
        .list()
        .ofMaxSize(20);
  }

  @Property(tries = 500)
  void aZombieOrLosingClaimantNeverWins(
      @ForAll @IntRange(min = 2, max = 5) int epoch,
      @ForAll("intruders") List<Intruder> intruders,
      @ForAll @IntRange(min = 0, max = 4) int ownerStashes,
      @ForAll long shuffleSeed) {
    var entries = new ArrayList<LogEntry>();
    entries.add(record(OWNER, epoch, SlotState.SELF, 1, 10, CLAIM_OFFSET));
    for (int i = 1; i <= ownerStashes; i++) {
      entries.add(record(OWNER, epoch, CLAIM_OFFSET, 1 + i, 10 + i, CLAIM_OFFSET + 10 * i));
    }
    int n = 0;
    for (Intruder z : intruders) {
      long offset;
      SlotRecord r;
      if (z.sameEpochLoser()) {
        offset = CLAIM_OFFSET + 1 + z.offsetSlot() * 10L + 5; // any later offset; never a tie
      } else {
        offset = z.offsetSlot() * 10L + 3; // before or after the claim
      }
      long e = z.sameEpochLoser() ? epoch : Math.max(1, epoch - z.epochBack());
      long claim = z.sameEpochLoser() ? SlotState.SELF : Math.min(offset, CLAIM_OFFSET - 1);
      entries.add(record("z" + z.writer() + "#1", e, claim, 1000 + n++, z.value(), offset));
    }
    var random = new Random(shuffleSeed);
    var delivered = new ArrayList<>(entries);
    delivered.addAll(entries.subList(0, random.nextInt(entries.size())));
    Collections.shuffle(delivered, random);
    var replica = new Replica(new Hlc(() -> 0));
    delivered.forEach(replica::apply);

    SessionView v = replica.read("s").orElseThrow();
    assertThat(v.owner()).isEqualTo(OWNER);
    assertThat(v.epoch()).isEqualTo(epoch);
    assertThat(v.claimOffset()).isEqualTo(CLAIM_OFFSET);
    if (ownerStashes > 0) {
      assertThat(v.value()).containsExactly((byte) (10 + ownerStashes));
    } else {
      // The owner has written nothing but its claim: the session reads as its claim, or as a
      // record of an older epoch written before the claim (the previous owner's last write),
      // never as a losing claim of the same epoch or a record after the claim.
      var allowed = new java.util.HashSet<Byte>();
      allowed.add((byte) 10);
      for (var e : entries) {
        var st = e.record().state();
        if (st.epoch() < epoch && e.offset() < CLAIM_OFFSET) {
          allowed.add(st.value()[0]);
        }
      }
      assertThat(allowed).contains(v.value()[0]);
    }
  }

  @Test
  void aFencedWriterCannotStashOnceItHasSeenTheNewerClaim() {
    var zombie = new Replica(new Hlc(() -> 5));
    zombie.apply(entry(zombie.stash("s", "old#1", new byte[] {1}), 0));
    assertThat(zombie.owner("s")).contains("old#1");
    // the new owner picked the session up (epoch 2) while the old one was paused
    var other = new Replica(new Hlc(() -> 5));
    other.apply(entry(zombie.stash("s", "old#1", new byte[] {2}), 1));
    SlotRecord claim = other.claim("s", "new#2", null);
    assertThat(claim.state().epoch()).isEqualTo(2);
    assertThat(claim.state().value()).containsExactly(2);
    zombie.apply(entry(claim, 2));
    assertThatThrownBy(() -> zombie.stash("s", "old#1", new byte[] {3}))
        .isInstanceOf(FencingException.class)
        .hasMessageContaining("'old#1' does not own session 's'")
        .hasMessageContaining("owned by 'new#2' at epoch 2");
    assertThatThrownBy(() -> zombie.end("s", "old#1")).isInstanceOf(FencingException.class);
  }

  private static LogEntry entry(SlotRecord r, long offset) {
    return new LogEntry(r, 0, offset);
  }

  private static LogEntry record(
      String writer, long epoch, long claim, long seq, int value, long offset) {
    return new LogEntry(
        new SlotRecord(
            "s",
            writer,
            new SlotState(epoch, claim, seq, Hlc.of(1_000, 0), new byte[] {(byte) value}, false)),
        0,
        offset);
  }
}
