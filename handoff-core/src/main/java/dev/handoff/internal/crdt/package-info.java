/**
 * The replicated session map: a delta-state CRDT whose deltas are the records of a compacted log.
 *
 * <h2>State</h2>
 *
 * <p>A {@link dev.handoff.internal.crdt.Replica} holds, per session, one <em>slot</em> per writer
 * incarnation ({@code memberId#epoch}): the latest {@link dev.handoff.spi.SlotRecord} that writer
 * appended for the session, with its log offset. A slot's {@link dev.handoff.spi.SlotState} is the
 * CRDT entry: its dot ({@code writer}, {@code seq}), the value bytes, a hybrid-logical-clock
 * timestamp ({@link dev.handoff.internal.crdt.Hlc}), the ownership {@code epoch} and the offset of
 * the claim that won that epoch. Beside the slots the replica keeps a causal context: per writer
 * the highest seq up to which every write is applied (a version vector) plus a dot cloud of seqs
 * that arrived out of order, which folds into the vector once the replica has read to the log's
 * end.
 *
 * <h2>Join, mutators, read</h2>
 *
 * <p>{@link dev.handoff.internal.crdt.Replica#apply Joining} a record keeps, per slot, the record
 * with the higher offset; a tombstone (a record without state) leaves a marker so a late, older
 * record cannot come back. Max-by-offset per slot is idempotent, commutative and associative, so
 * replicas that applied the same records in any order, with duplicates, are equal (I1). The
 * mutators {@code stash}, {@code claim} and {@code end} return one small record (the delta) and
 * change nothing until the log delivers it back. A session reads as the slot with the highest epoch
 * and, within it, the lowest claim offset: Kafka's per-partition order is the sequencer for claims,
 * every replica decides the same, and no wall clock is consulted. A writer of a lower epoch, or a
 * claimant that came second, never wins (I5); its stash fails with {@link
 * dev.handoff.internal.crdt.FencingException} once its replica has seen the newer claim. The HLC
 * orders a writer's own writes for humans and for codecs; the log offset is what decides.
 *
 * <h2>The record log-sync publishes, and why compaction keeps it correct (I2)</h2>
 *
 * <p>The record key is ({@code session}, {@code writer}), every record of a session goes to the
 * partition chosen by {@code session} alone, and each record carries its writer's whole state for
 * the session, including the claim offset that won its epoch. Compaction keeps the last record of
 * every key, which is exactly the record the join would keep for that slot, and a read depends only
 * on the last record of each slot, so a replica rebuilt from the compacted topic reads every
 * session as one that consumed everything. Tombstones only ever delete slots that do not win, and
 * Kafka drops a tombstone only after the records it superseded, so losing them changes no reading
 * either. (Keying by session alone fails: compaction may keep a zombie's or a loser's record and
 * drop the winner's; the tests show a concrete case.)
 *
 * <h2>Garbage collection (I6)</h2>
 *
 * <p>{@link dev.handoff.internal.crdt.Replica#slotsToTombstone} tells a writer which tombstones are
 * safe to append: its own slot once it no longer wins, the slots of retired writers when it owns
 * the session, and an ended session's last slot after a retention during which it keeps older
 * epochs fenced. A writer never tombstones another live writer's slot, because that tombstone could
 * land after the other writer's newer claim and erase it. {@link
 * dev.handoff.internal.crdt.Replica#retireWriter} drops a dead incarnation's causal-context entry
 * at once; {@link dev.handoff.internal.crdt.Replica#forgetTombstonesBefore} drops tombstone markers
 * once the reader has passed them in log order. What is left is one slot per live or recently ended
 * session and one entry per live writer; {@link dev.handoff.internal.crdt.Replica#metadataBytes}
 * estimates it.
 */
package dev.handoff.internal.crdt;
