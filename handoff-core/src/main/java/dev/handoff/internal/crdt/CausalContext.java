package dev.handoff.internal.crdt;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

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
 *
 * <p>During a replay the cloud can be large: one writer's records are spread over every partition
 * and arrive partition by partition. It is a bitmap, 64 seqs per word, in an open-addressing table
 * of primitive longs, so adding a dot is a hash probe and a bit set, not a tree insert.
 */
final class CausalContext {

  private static final class Entry {
    long contiguous;
    long max;
    Words cloud; // null when empty
  }

  private final HashMap<String, Entry> byWriter = new HashMap<>();
  private int cloudSize;

  void add(String writer, long seq) {
    var e = byWriter.computeIfAbsent(writer, w -> new Entry());
    if (seq <= e.contiguous) {
      return;
    }
    e.max = Math.max(e.max, seq);
    if (seq == e.contiguous + 1) {
      e.contiguous = seq;
      if (e.cloud != null) {
        // Absorb the dots that now follow on: each is taken out of the cloud exactly once.
        while (e.cloud.remove(e.contiguous + 1)) {
          e.contiguous++;
          cloudSize--;
        }
        if (e.cloud.isEmpty()) {
          e.cloud = null;
        }
      }
      return;
    }
    if (e.cloud == null) {
      e.cloud = new Words();
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
    return e == null ? 0 : Math.max(e.contiguous, e.max);
  }

  void caughtUp() {
    for (var e : byWriter.values()) {
      if (e.cloud != null) {
        e.contiguous = Math.max(e.contiguous, e.max);
        cloudSize -= e.cloud.bits();
        e.cloud = null;
      }
    }
  }

  void forget(String writer) {
    var e = byWriter.remove(writer);
    if (e != null && e.cloud != null) {
      cloudSize -= e.cloud.bits();
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

  /**
   * A set of non-negative longs as 64-bit words keyed by {@code value >>> 6}, in a linear-probing
   * table of primitive longs (no boxing). Removal shifts the following entries back, so the table
   * has no tombstones.
   */
  static final class Words {
    private static final long FREE = -1L; // word indexes are >= 0

    private long[] keys = newKeys(16);
    private long[] words = new long[16];
    private int used; // occupied slots
    private int bits; // values in the set

    private static long[] newKeys(int n) {
      long[] k = new long[n];
      java.util.Arrays.fill(k, FREE);
      return k;
    }

    /** Adds {@code value} (>= 0); true if it was not there. */
    boolean add(long value) {
      long key = value >>> 6;
      long bit = 1L << (value & 63);
      int i = find(key);
      if (keys[i] == key) {
        if ((words[i] & bit) != 0) {
          return false;
        }
        words[i] |= bit;
        bits++;
        return true;
      }
      keys[i] = key;
      words[i] = bit;
      used++;
      bits++;
      if (used * 4 >= keys.length * 3) {
        grow();
      }
      return true;
    }

    boolean contains(long value) {
      int i = find(value >>> 6);
      return keys[i] != FREE && (words[i] & (1L << (value & 63))) != 0;
    }

    /** Removes {@code value}; true if it was there. */
    boolean remove(long value) {
      int i = find(value >>> 6);
      long bit = 1L << (value & 63);
      if (keys[i] == FREE || (words[i] & bit) == 0) {
        return false;
      }
      words[i] &= ~bit;
      bits--;
      if (words[i] == 0) {
        deleteSlot(i);
      }
      return true;
    }

    boolean isEmpty() {
      return bits == 0;
    }

    int bits() {
      return bits;
    }

    /** The slot holding {@code key}, or the free slot where it would go. */
    private int find(long key) {
      int mask = keys.length - 1;
      int i = slot(key, mask);
      while (keys[i] != FREE && keys[i] != key) {
        i = (i + 1) & mask;
      }
      return i;
    }

    private static int slot(long key, int mask) {
      long h = key * 0x9E3779B97F4A7C15L;
      return (int) (h ^ (h >>> 32)) & mask;
    }

    private void deleteSlot(int hole) {
      int mask = keys.length - 1;
      keys[hole] = FREE;
      words[hole] = 0;
      used--;
      // Shift back every following entry of the run that the hole would otherwise cut off.
      int i = (hole + 1) & mask;
      while (keys[i] != FREE) {
        int home = slot(keys[i], mask);
        boolean movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
        if (movable) {
          keys[hole] = keys[i];
          words[hole] = words[i];
          keys[i] = FREE;
          words[i] = 0;
          hole = i;
        }
        i = (i + 1) & mask;
      }
    }

    private void grow() {
      long[] oldKeys = keys;
      long[] oldWords = words;
      keys = newKeys(oldKeys.length * 2);
      words = new long[oldKeys.length * 2];
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != FREE) {
          int j = find(oldKeys[i]);
          keys[j] = oldKeys[i];
          words[j] = oldWords[i];
        }
      }
    }
  }
}
