package dev.handoff.internal.crdt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotRecord;
import dev.handoff.spi.SlotState;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReplicaTest {

  private final AtomicLong millis = new AtomicLong(10_000);
  private final Replica replica = new Replica(new Hlc(millis::get));
  private long nextOffset;

  private long append(SlotRecord r) {
    long offset = nextOffset++;
    replica.apply(new LogEntry(r, 0, offset));
    return offset;
  }

  @Test
  void onlySessionsInTransitionNeedTidying() {
    append(replica.stash("s", "a#1", new byte[] {1}));
    assertThat(replica.needsTidying("s")).isFalse();
    append(replica.claim("s", "b#2", null));
    assertThat(replica.needsTidying("s")).as("two slots").isTrue();
    append(SlotRecord.tombstone("s", "a#1"));
    replica.forgetTombstonesBefore(0, Long.MAX_VALUE);
    assertThat(replica.needsTidying("s")).as("back to one slot").isFalse();
    append(replica.end("s", "b#2"));
    assertThat(replica.needsTidying("s")).as("ended winner").isTrue();
    assertThat(replica.needsTidying("unknown")).isFalse();
  }

  @Test
  void forEachViewVisitsWhatReadAndNeedsTidyingSay() {
    append(replica.stash("plain", "a#1", new byte[] {1}));
    append(replica.stash("contested", "a#1", new byte[] {2}));
    append(replica.claim("contested", "b#2", null));
    append(replica.stash("ended", "a#1", new byte[] {3}));
    append(replica.end("ended", "a#1"));
    append(replica.stash("gone", "a#1", new byte[] {4}));
    append(SlotRecord.tombstone("gone", "a#1"));

    var seen = new java.util.HashMap<String, SessionView>();
    var tidy = new java.util.HashMap<String, Boolean>();
    replica.forEachView(
        (view, needsTidying) -> {
          assertThat(seen.put(view.session(), view)).as("visited once").isNull();
          tidy.put(view.session(), needsTidying);
        });
    for (String k : replica.knownSessions()) {
      assertThat(java.util.Optional.ofNullable(seen.get(k))).as(k).isEqualTo(replica.read(k));
      if (seen.containsKey(k)) {
        assertThat(tidy.get(k)).as(k).isEqualTo(replica.needsTidying(k));
      }
    }
    assertThat(seen.keySet()).containsExactlyInAnyOrder("plain", "contested", "ended");
    assertThat(replica.knownSessionCount()).isEqualTo(replica.knownSessions().size());
  }

  @Test
  void stashOfANewSessionIsAClaimOfEpochOne() {
    SlotRecord r = replica.stash("s", "a#1", new byte[] {1});
    assertThat(r.state().epoch()).isEqualTo(1);
    assertThat(r.state().claimOffset()).isEqualTo(SlotState.SELF);
    long at = append(r);
    assertThat(replica.claimOutcome("s", "a#1", at)).isInstanceOf(ClaimOutcome.Won.class);
    SlotRecord next = replica.stash("s", "a#1", new byte[] {2});
    assertThat(next.state().claimOffset()).isEqualTo(at);
    assertThat(next.state().seq()).isGreaterThan(r.state().seq());
    assertThat(next.state().hlc()).isGreaterThan(r.state().hlc());
    append(next);
    assertThat(replica.value("s")).hasValueSatisfying(v -> assertThat(v).containsExactly(2));
    assertThat(replica.sessions()).containsExactly("s");
  }

  @Test
  void ofTwoRacingClaimsTheLowerOffsetWinsAndTheLoserCleansItsSlot() {
    append(replica.stash("s", "a#1", new byte[] {1}));
    SlotRecord first = replica.claim("s", "b#1", null);
    SlotRecord second = replica.claim("s", "c#1", null);
    assertThat(replica.claimOutcome("s", "b#1", 1)).isInstanceOf(ClaimOutcome.Pending.class);
    long b = append(first);
    long c = append(second);
    assertThat(replica.claimOutcome("s", "b#1", b)).isInstanceOf(ClaimOutcome.Won.class);
    assertThat(replica.claimOutcome("s", "c#1", c))
        .isEqualTo(new ClaimOutcome.Lost(replica.read("s").orElseThrow()));
    assertThat(replica.owner("s")).contains("b#1");
    assertThatThrownBy(() -> replica.stash("s", "c#1", new byte[] {9}))
        .isInstanceOf(FencingException.class);
    // the loser tombstones its own slot; nobody tombstones another live writer's slot
    assertThat(replica.slotsToTombstone("s", "c#1", millis.get(), 60_000))
        .containsExactly(SlotRecord.tombstone("s", "c#1"));
    // the superseded owner's slot lies before the winner's claim: while the winner has written
    // nothing but its claim the session may read as that slot, so it stays until the winner writes
    assertThat(replica.slotsToTombstone("s", "a#1", millis.get(), 60_000)).isEmpty();
    append(replica.stash("s", "b#1", new byte[] {1}));
    assertThat(replica.slotsToTombstone("s", "a#1", millis.get(), 60_000))
        .containsExactly(SlotRecord.tombstone("s", "a#1"));
    assertThat(replica.slotsToTombstone("s", "b#1", millis.get(), 60_000)).isEmpty();
    // ... unless the other writer is retired (a dead incarnation)
    replica.retireWriter("a#1");
    assertThat(replica.slotsToTombstone("s", "b#1", millis.get(), 60_000))
        .containsExactly(SlotRecord.tombstone("s", "a#1"));
  }

  @Test
  void anEndedSessionReadsAbsentKeepsFencingAndIsTombstonedAfterRetention() {
    long claim = append(replica.stash("s", "a#1", new byte[] {1}));
    append(replica.end("s", "a#1"));
    assertThat(replica.value("s")).isEmpty();
    assertThat(replica.sessions()).isEmpty();
    assertThat(replica.read("s")).hasValueSatisfying(v -> assertThat(v.ended()).isTrue());
    assertThat(replica.read("s").orElseThrow().claimOffset()).isEqualTo(claim);
    assertThat(replica.slotsToTombstone("s", "a#1", millis.get() + 59_999, 60_000)).isEmpty();
    assertThat(replica.slotsToTombstone("s", "a#1", millis.get() + 60_000, 60_000))
        .containsExactly(SlotRecord.tombstone("s", "a#1"));
    // a new session under the same key claims above the ended epoch
    SlotRecord again = replica.stash("s", "b#1", new byte[] {2});
    assertThat(again.state().epoch()).isEqualTo(2);
    assertThat(again.state().claimOffset()).isEqualTo(SlotState.SELF);
  }

  @Test
  void tombstoneMarkersStopAStaleRecordAndAreForgottenOnceTheLogIsReadPastThem() {
    var stale = new LogEntry(replica.stash("s", "a#1", new byte[] {1}), 0, 3);
    replica.apply(new LogEntry(SlotRecord.tombstone("s", "a#1"), 0, 5));
    replica.apply(stale); // delivered late: must not come back
    assertThat(replica.read("s")).isEmpty();
    assertThat(replica.tombstoneMarkerCount()).isEqualTo(1);
    long withMarker = replica.metadataBytes();
    replica.forgetTombstonesBefore(0, 5);
    assertThat(replica.tombstoneMarkerCount()).isEqualTo(1);
    replica.forgetTombstonesBefore(0, 6);
    assertThat(replica.tombstoneMarkerCount()).isZero();
    assertThat(replica.knownSessions()).isEmpty();
    // what is left is the live local writer's counter
    assertThat(replica.metadataBytes()).isLessThan(withMarker).isEqualTo(Replica.WRITER_BYTES);
  }

  @Test
  void causalContextAnswersWhichDotsWereAppliedAndFoldsGapsWhenCaughtUp() {
    replica.apply(entry("s1", "a#1", 1, 0));
    replica.apply(entry("s2", "a#1", 3, 1));
    assertThat(replica.hasApplied("a#1", 1)).isTrue();
    assertThat(replica.hasApplied("a#1", 2)).isFalse();
    assertThat(replica.hasApplied("a#1", 3)).isTrue();
    assertThat(replica.versionVector()).containsEntry("a#1", 1L);
    replica.markCaughtUp(); // seq 2 was compacted away under a later record of its slot
    assertThat(replica.hasApplied("a#1", 2)).isTrue();
    assertThat(replica.versionVector()).containsEntry("a#1", 3L);
    assertThat(replica.stash("s3", "a#1", new byte[] {1}).state().seq()).isEqualTo(4);
    replica.retireWriter("a#1");
    assertThat(replica.versionVector()).isEmpty();
    assertThat(replica.writers()).containsExactly("a#1"); // until its slots are tombstoned
    replica.apply(new LogEntry(SlotRecord.tombstone("s1", "a#1"), 0, 10));
    replica.apply(new LogEntry(SlotRecord.tombstone("s2", "a#1"), 0, 11));
    replica.forgetTombstonesBefore(0, 12);
    assertThat(replica.writers()).isEmpty();
    assertThat(replica.metadataBytes()).isZero();
  }

  @Test
  void claimWithoutAValueNeedsLiveState() {
    assertThatThrownBy(() -> replica.claim("nope", "a#1", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("session 'nope'");
  }

  private static LogEntry entry(String session, String writer, long seq, long offset) {
    return new LogEntry(
        new SlotRecord(
            session,
            writer,
            new SlotState(1, SlotState.SELF, seq, Hlc.of(1, 0), new byte[] {1}, false)),
        0,
        offset);
  }
}
