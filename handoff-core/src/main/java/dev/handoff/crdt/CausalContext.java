package dev.handoff.crdt;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The dots a replica has applied: per writer, a version-vector entry (every seq up to it is applied
 * or subsumed by a later record of its slot) and a dot cloud of applied seqs above it that arrived
 * out of order. Not thread-safe.
 *
 * <p>Under compaction a rebuilt replica never sees superseded records, so gaps below a writer's
 * highest seq can be permanent. {@link #caughtUp()} folds the cloud once the replica has read to
 * the log's end: every dot below the maximum is then applied or was compacted away because a later
 * record of its slot subsumes it. The cloud therefore holds only dots in flight between two
 * catch-ups, and the context is one entry per live writer.
 */
final class CausalContext {

  private static final class Entry {
    long contiguous;
    TreeSet<Long> cloud;
  }

  private final HashMap<String, Entry> byWriter = new HashMap<>();
  private int cloudSize;

  void add(String writer, long seq) {
    var e = byWriter.computeIfAbsent(writer, w -> new Entry());
    if (seq <= e.contiguous) {
      return;
    }
    if (seq == e.contiguous + 1) {
      e.contiguous = seq;
      if (e.cloud != null) {
        while (!e.cloud.isEmpty() && e.cloud.first() <= e.contiguous + 1) {
          e.contiguous = Math.max(e.contiguous, e.cloud.pollFirst());
          cloudSize--;
        }
        if (e.cloud.isEmpty()) {
          e.cloud = null;
        }
      }
      return;
    }
    if (e.cloud == null) {
      e.cloud = new TreeSet<>();
    }
    if (e.cloud.add(seq)) {
      cloudSize++;
    }
  }

  boolean contains(String writer, long seq) {
    var e = byWriter.get(writer);
    return e != null && (seq <= e.contiguous || (e.cloud != null && e.cloud.contains(seq)));
  }

  /** Highest seq seen of {@code writer}, 0 if none. */
  long max(String writer) {
    var e = byWriter.get(writer);
    if (e == null) {
      return 0;
    }
    return e.cloud == null ? e.contiguous : Math.max(e.contiguous, e.cloud.last());
  }

  void caughtUp() {
    for (var e : byWriter.values()) {
      if (e.cloud != null) {
        e.contiguous = Math.max(e.contiguous, e.cloud.last());
        cloudSize -= e.cloud.size();
        e.cloud = null;
      }
    }
  }

  void forget(String writer) {
    var e = byWriter.remove(writer);
    if (e != null && e.cloud != null) {
      cloudSize -= e.cloud.size();
    }
  }

  Map<String, Long> versionVector() {
    var vv = new TreeMap<String, Long>();
    byWriter.forEach((w, e) -> vv.put(w, e.contiguous));
    return vv;
  }

  int writers() {
    return byWriter.size();
  }

  int cloudSize() {
    return cloudSize;
  }
}
