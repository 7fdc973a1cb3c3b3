package dev.handoff.internal.crdt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The dot cloud's bitmap against a plain model: a contiguous prefix plus a sorted set. */
class CausalContextTest {

  /** The model: what the context must answer, written the obvious way. */
  private static final class Model {
    final Map<String, Long> contiguous = new HashMap<>();
    final Map<String, TreeSet<Long>> cloud = new HashMap<>();

    void add(String w, long seq) {
      contiguous.putIfAbsent(w, 0L); // a writer is known from its first record on
      long c = contiguous.get(w);
      if (seq <= c) {
        return;
      }
      var set = cloud.computeIfAbsent(w, k -> new TreeSet<>());
      set.add(seq);
      while (set.contains(c + 1)) {
        set.remove(++c);
      }
      contiguous.put(w, c);
    }

    boolean contains(String w, long seq) {
      if (!contiguous.containsKey(w)) {
        return false;
      }
      return seq <= contiguous.get(w) || cloud.getOrDefault(w, new TreeSet<>()).contains(seq);
    }

    long max(String w) {
      var set = cloud.get(w);
      long c = contiguous.getOrDefault(w, 0L);
      return set == null || set.isEmpty() ? c : Math.max(c, set.last());
    }

    void caughtUp() {
      for (String w : new HashSet<>(contiguous.keySet())) {
        contiguous.put(w, max(w));
        cloud.remove(w);
      }
    }

    void forget(String w) {
      contiguous.remove(w);
      cloud.remove(w);
    }

    int cloudSize() {
      return cloud.values().stream().mapToInt(Set::size).sum();
    }
  }

  @Property(tries = 300)
  void answersLikeTheModel(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 4) int writers,
      @ForAll @IntRange(min = 1, max = 20_000) int span) {
    var random = new Random(seed);
    var context = new CausalContext();
    var model = new Model();
    for (int op = 0; op < 3_000; op++) {
      String w = "w" + random.nextInt(writers);
      int kind = random.nextInt(100);
      if (kind < 85) {
        // Mostly near the writer's prefix (replay order), sometimes far ahead (compacted gaps).
        long base = model.contiguous.getOrDefault(w, 0L);
        long seq =
            random.nextInt(10) == 0
                ? 1 + (random.nextLong() >>> (1 + random.nextInt(62)))
                : base - 5 + random.nextInt(span);
        context.add(w, seq);
        model.add(w, seq);
      } else if (kind < 97) {
        long probe = random.nextInt(span + 10);
        assertThat(context.contains(w, probe))
            .as("contains(%s, %d)", w, probe)
            .isEqualTo(model.contains(w, probe));
      } else if (kind < 99) {
        context.caughtUp();
        model.caughtUp();
      } else {
        context.forget(w);
        model.forget(w);
      }
      assertThat(context.max(w)).isEqualTo(model.max(w));
      assertThat(context.cloudSize()).isEqualTo(model.cloudSize());
    }
    assertThat(context.versionVector()).isEqualTo(new java.util.TreeMap<>(model.contiguous));
  }

  @Test
  void aReplayInPartitionOrderFoldsIntoOneEntry() {
    // One writer's 120,000 seqs dealt over 12 partitions, read partition after partition.
    var context = new CausalContext();
    for (int p = 0; p < 12; p++) {
      for (long seq = 1 + p; seq <= 120_000; seq += 12) {
        context.add("w", seq);
      }
    }
    assertThat(context.cloudSize()).isZero();
    assertThat(context.versionVector()).containsEntry("w", 120_000L);
    assertThat(context.contains("w", 77_777)).isTrue();
  }

  @Test
  void wordsSurviveRemovalsThatWrapAroundTheTable() {
    var words = new CausalContext.Words();
    var model = new TreeSet<Long>();
    var random = new Random(7);
    for (int i = 0; i < 200_000; i++) {
      long v = random.nextInt(4_000) * 64L + random.nextInt(3);
      if (random.nextBoolean()) {
        assertThat(words.add(v)).isEqualTo(model.add(v));
      } else {
        assertThat(words.remove(v)).isEqualTo(model.remove(v));
      }
      if (i % 1_000 == 0) {
        for (long word = 0; word < 4_000; word++) {
          for (int bit = 0; bit < 4; bit++) {
            long probe = word * 64 + bit;
            if (words.contains(probe) != model.contains(probe)) {
              throw new AssertionError("contains(" + probe + ") after " + i + " operations");
            }
          }
        }
      }
    }
    assertThat(words.bits()).isEqualTo(model.size());
  }
}
