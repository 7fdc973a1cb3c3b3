package dev.handoff.cli;

import dev.handoff.internal.crdt.Hlc;
import dev.handoff.internal.crdt.Replica;
import dev.handoff.kafka.TopicReader;
import dev.handoff.spi.LogEntry;
import dev.handoff.spi.SlotState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The delta log's topic read once to its end: every session as the library reads it (through the
 * core's own {@link Replica}, so the owner is decided by the same rule as on every node), and what
 * compaction would keep. Holds the reader open so states can be decoded with the writer schemas
 * found in the topic.
 */
final class TopicSnapshot implements AutoCloseable {

  /**
   * One session as every node reads it: its winning slot.
   *
   * @param session the session key
   * @param owner the writer that owns it, {@code memberId#epoch}
   * @param epoch its ownership epoch
   * @param ended true if the owner ended it (it reads as absent)
   * @param value the state bytes, null if ended
   * @param hlc the hybrid logical clock of the winning write
   * @param partition the session's partition
   * @param offset the winning record's offset
   * @param timestamp the winning record's Kafka timestamp, epoch millis
   * @param liveSlots slots of the session the topic holds, the winner's included
   */
  record Session(
      String session,
      String owner,
      long epoch,
      boolean ended,
      byte[] value,
      long hlc,
      int partition,
      long offset,
      long timestamp,
      int liveSlots) {

    int size() {
      return value == null ? 0 : value.length;
    }

    String memberId() {
      int i = owner.lastIndexOf('#');
      return i < 0 ? owner : owner.substring(0, i);
    }
  }

  /** A record key as compaction sees it: a slot (session, writer), or a schema in a partition. */
  private record Key(String session, String writer, int schemaPartition, long fingerprint) {}

  /** The last record of a key so far. */
  private record Last(long offset, long timestamp, int bytes, SlotState state, boolean tombstone) {}

  private final TopicReader reader;
  private final Replica replica = new Replica();
  private final Map<Key, Last> last = new HashMap<>();
  private final Map<String, Integer> liveSlots = new HashMap<>();
  private final Map<String, Integer> partitions = new HashMap<>();
  private final Map<Long, String> schemaNames = new TreeMap<>();
  private final List<Session> sessions = new ArrayList<>();
  private Map<Integer, Long> endOffsets;

  long records;
  long bytes;
  long slotRecords;
  long tombstoneRecords;
  long schemaRecords;
  long layoutRecords;
  long undecodableRecords;
  long supersededRecords;
  long supersededBytes;

  private TopicSnapshot(TopicReader reader) {
    this.reader = reader;
  }

  static TopicSnapshot read(TopicReader reader) {
    var snapshot = new TopicSnapshot(reader);
    snapshot.endOffsets = reader.readToEnd(snapshot::add);
    snapshot.index();
    return snapshot;
  }

  private void add(TopicReader.Entry e) {
    records++;
    bytes += e.bytes();
    if (e instanceof TopicReader.SlotEntry s) {
      var r = s.record();
      if (r.isTombstone()) {
        tombstoneRecords++;
      } else {
        slotRecords++;
      }
      replica.apply(new LogEntry(r, s.partition(), s.offset()));
      partitions.put(r.session(), s.partition());
      keep(
          new Key(r.session(), r.writer(), -1, 0),
          new Last(s.offset(), s.timestamp(), s.bytes(), r.state(), r.isTombstone()));
    } else if (e instanceof TopicReader.SchemaEntry s) {
      schemaRecords++;
      if (s.schema() != null) {
        schemaNames.put(s.fingerprint(), s.schema().getFullName());
      }
      keep(
          new Key(null, null, s.partition(), s.fingerprint()),
          new Last(s.offset(), s.timestamp(), s.bytes(), null, s.schema() == null));
    } else if (e instanceof TopicReader.LayoutEntry l) {
      layoutRecords++;
      keep(
          new Key(null, "layout", l.partition(), 0),
          new Last(l.offset(), l.timestamp(), l.bytes(), null, l.partitions() < 0));
    } else {
      undecodableRecords++;
    }
  }

  private void keep(Key key, Last record) {
    Last before = last.put(key, record);
    if (before != null) {
      supersededRecords++;
      supersededBytes += before.bytes();
    }
  }

  private void index() {
    last.forEach(
        (k, v) -> {
          if (k.session() != null && !v.tombstone()) {
            liveSlots.merge(k.session(), 1, Integer::sum);
          }
        });
    replica.forEachView(
        (view, needsTidying) -> {
          Last won = last.get(new Key(view.session(), view.owner(), -1, 0));
          sessions.add(
              new Session(
                  view.session(),
                  view.owner(),
                  view.epoch(),
                  view.ended(),
                  view.value(),
                  view.hlc(),
                  partitions.getOrDefault(view.session(), -1),
                  won == null ? -1 : won.offset(),
                  won == null ? -1 : won.timestamp(),
                  liveSlots.getOrDefault(view.session(), 0)));
        });
    sessions.sort((a, b) -> a.session().compareTo(b.session()));
  }

  /** Every session the topic holds a live slot for, ended ones included, sorted by key. */
  List<Session> sessions() {
    return sessions;
  }

  /** The end offsets read to, by partition. */
  Map<Integer, Long> endOffsets() {
    return endOffsets;
  }

  /** Writer schemas in the topic: fingerprint to full name. */
  Map<Long, String> schemaNames() {
    return schemaNames;
  }

  /** Keys whose last record is a tombstone, and their bytes: compaction drops them later. */
  long[] tombstonesKept() {
    long n = 0;
    long b = 0;
    for (var v : last.values()) {
      if (v.tombstone()) {
        n++;
        b += v.bytes();
      }
    }
    return new long[] {n, b};
  }

  /** Tombstones whose timestamp is older than {@code nowMillis - deleteRetentionMillis}. */
  long[] tombstonesExpired(long nowMillis, long deleteRetentionMillis) {
    long n = 0;
    long b = 0;
    for (var v : last.values()) {
      if (v.tombstone() && v.timestamp() + deleteRetentionMillis <= nowMillis) {
        n++;
        b += v.bytes();
      }
    }
    return new long[] {n, b};
  }

  /**
   * Slots that no longer win and so are due a tombstone (their writer, or the owner once their
   * writer is gone, appends it at its next sweep), with their bytes; plus the winning slots of
   * sessions ended more than {@code endedRetentionMillis} ago, whose owner tombstones them.
   */
  long[] tombstonesDue(long nowMillis, long endedRetentionMillis) {
    long n = 0;
    long b = 0;
    for (var e : last.entrySet()) {
      Key k = e.getKey();
      Last v = e.getValue();
      if (k.session() == null || v.tombstone()) {
        continue;
      }
      var view = replica.read(k.session()).orElse(null);
      boolean winner = view != null && view.owner().equals(k.writer());
      boolean endedLongAgo =
          winner
              && view.ended()
              && Hlc.physicalMillis(view.hlc()) + endedRetentionMillis <= nowMillis;
      if (!winner || endedLongAgo) {
        n++;
        b += v.bytes();
      }
    }
    return new long[] {n, b};
  }

  /** The reader, for decoding states with the writer schemas found in the topic. */
  TopicReader reader() {
    return reader;
  }

  @Override
  public void close() {
    reader.close();
  }
}
