package dev.handoff.testkit.cluster.history;

import dev.handoff.testkit.cluster.history.Anomaly.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a merged history of the counter workload against the consistency contract: per session,
 * successful stash/pickup/end calls take effect in one order consistent with real time, a
 * successful stash is seen by every later pickup, a write that lost its ownership never reports
 * success, and no session is left unowned after the cluster heals.
 *
 * <p>The workload makes this checkable without searching for a linearization: every stash writes a
 * value no other stash writes and names the value it was derived from (its writer's previous stash,
 * or what its pickup returned). The values of a session so form a tree, and "a read sees a stash"
 * means "the value read descends from (or is) the value stashed". A correct run keeps every
 * acknowledged stash on one path of that tree. Operations whose outcome is unknown may or may not
 * have taken effect: they are never required to be seen, and values they wrote may be read. Session
 * keys are never reused after an end.
 *
 * <p>Every rule is sound: it reports only what no order consistent with real time explains.
 */
public final class HistoryChecker {
  private HistoryChecker() {}

  /**
   * How the cluster stood after the nemesis stopped, the cluster healed and the workload stopped,
   * as a fresh node saw it.
   *
   * @param liveWriters writer ids of the members alive at the end
   * @param owners each live session and the writer that owns it
   * @param hosted for each live writer, the sessions its workload holds (would keep stashing)
   */
  public record Ending(
      Set<String> liveWriters, Map<String, String> owners, Map<String, Set<String>> hosted) {
    public Ending {
      liveWriters = Set.copyOf(liveWriters);
      owners = Map.copyOf(owners);
      hosted = Map.copyOf(hosted);
    }
  }

  /** The checker's findings. */
  public record Report(List<Anomaly> anomalies, int operations, long origin) {
    public Report {
      anomalies = List.copyOf(anomalies);
    }

    /** Anomalies by kind, every kind present (0 if none). */
    public Map<Kind, Integer> counts() {
      var out = new EnumMap<Kind, Integer>(Kind.class);
      for (Kind k : Kind.values()) {
        out.put(k, 0);
      }
      anomalies.forEach(a -> out.merge(a.kind(), 1, Integer::sum));
      return out;
    }

    /** Counts, then up to {@code perKind} examples of each kind with their operations. */
    public String describe(int perKind) {
      var b = new StringBuilder();
      b.append(operations).append(" operations checked; anomalies ").append(counts());
      var shown = new EnumMap<Kind, Integer>(Kind.class);
      for (Anomaly a : anomalies) {
        if (shown.merge(a.kind(), 1, Integer::sum) <= perKind) {
          b.append("\n  ").append(a.describe(origin));
        }
      }
      return b.toString();
    }
  }

  /**
   * Checks a run's directory again ({@code *.history} and {@code ending.txt}, as the fault test
   * leaves them under {@code target/fault-runs/}) and prints the report: {@code java -cp <test
   * classpath> dev.handoff.testkit.cluster.history.HistoryChecker <dir>}.
   */
  public static void main(String[] args) throws java.io.IOException {
    java.nio.file.Path dir = java.nio.file.Path.of(args[0]);
    List<java.nio.file.Path> files;
    try (var list = java.nio.file.Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".history")).sorted().toList();
    }
    var report = check(HistoryFile.read(files), HistoryFile.readEnding(dir.resolve("ending.txt")));
    System.out.println(report.describe(args.length > 1 ? Integer.parseInt(args[1]) : 3));
  }

  /** Checks {@code ops} (every node's history, final reads included) and the {@code ending}. */
  public static Report check(Collection<Op> ops, Ending ending) {
    Objects.requireNonNull(ending, "ending");
    var byKey = new TreeMap<String, List<Op>>();
    long origin = Long.MAX_VALUE;
    for (Op op : ops) {
      byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
      origin = Math.min(origin, op.invokedAt());
    }
    var anomalies = new ArrayList<Anomaly>();
    byKey.forEach((key, list) -> new Session(key, list).check(anomalies));
    ending.owners().forEach((key, owner) -> unowned(key, owner, ending, anomalies));
    anomalies.sort(Comparator.comparing(Anomaly::kind));
    return new Report(anomalies, ops.size(), origin == Long.MAX_VALUE ? 0 : origin);
  }

  private static void unowned(String key, String owner, Ending ending, List<Anomaly> out) {
    if (!ending.liveWriters().contains(owner)) {
      out.add(
          new Anomaly(
              Kind.UNOWNED,
              key,
              "after healing it is owned by " + owner + ", which is not a live member",
              List.of()));
    } else if (!ending.hosted().getOrDefault(owner, Set.of()).contains(key)) {
      out.add(
          new Anomaly(
              Kind.UNOWNED,
              key,
              "after healing it is owned by live member " + owner + ", which does not host it",
              List.of()));
    }
  }

  /** True if {@code a} is a later incarnation of {@code b}'s member: its stash re-claims. */
  static boolean laterIncarnation(String a, String b) {
    int i = a.lastIndexOf('#');
    int j = b.lastIndexOf('#');
    if (i < 0 || j < 0 || !a.substring(0, i).equals(b.substring(0, j))) {
      return false;
    }
    try {
      return Long.parseLong(a.substring(i + 1)) > Long.parseLong(b.substring(j + 1));
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** The operations on one session and the tree of the values its stashes wrote. */
  private static final class Session {
    private final String key;
    private final List<Op> ops;
    private final Map<String, Op> stashOf = new HashMap<>();
    private final List<Op> okStashes = new ArrayList<>(); // by completion
    private final List<Op> reads = new ArrayList<>(); // ok pickups and reads, by invocation
    private final List<Op> possibleEnds = new ArrayList<>();
    private final List<Op> okEnds = new ArrayList<>();
    private final Map<String, List<Op>> acquisitions = new HashMap<>(); // possible, by writer
    // Euler tour of the value tree: a is an ancestor of b iff enter[a] <= enter[b] && exit[b] <=
    // exit[a].
    private final Map<String, int[]> tour = new HashMap<>();

    Session(String key, List<Op> ops) {
      this.key = key;
      this.ops = ops;
      for (Op op : ops) {
        switch (op.type()) {
          case STASH -> {
            if (stashOf.put(op.written(), op) != null) {
              throw new IllegalArgumentException(
                  "value " + op.written() + " of " + key + " was written twice");
            }
            if (op.ok()) {
              okStashes.add(op);
            }
          }
          case PICKUP, READ -> {
            if (op.ok()) {
              reads.add(op);
            }
            if (op.possiblyAcquired()) {
              acquisitions.computeIfAbsent(op.writer(), w -> new ArrayList<>()).add(op);
            }
          }
          case END -> {
            if (op.possiblyApplied()) {
              possibleEnds.add(op);
            }
            if (op.ok()) {
              okEnds.add(op);
            }
          }
        }
      }
      okStashes.sort(Comparator.comparingLong(Op::completedAt));
      reads.sort(Comparator.comparingLong(Op::invokedAt));
      buildTour();
    }

    private void buildTour() {
      var children = new HashMap<String, List<String>>();
      var roots = new ArrayList<String>();
      for (Op s : stashOf.values()) {
        if (s.base() != null && stashOf.containsKey(s.base())) {
          children.computeIfAbsent(s.base(), b -> new ArrayList<>()).add(s.written());
        } else {
          roots.add(s.written());
        }
      }
      int clock = 0;
      var stack = new ArrayDeque<Object[]>(); // {value, next child index}
      for (String root : roots) {
        stack.push(new Object[] {root, 0});
        tour.put(root, new int[] {clock++, 0});
        while (!stack.isEmpty()) {
          Object[] top = stack.peek();
          List<String> kids = children.getOrDefault((String) top[0], List.of());
          int next = (int) top[1];
          if (next < kids.size()) {
            top[1] = next + 1;
            String kid = kids.get(next);
            tour.put(kid, new int[] {clock++, 0});
            stack.push(new Object[] {kid, 0});
          } else {
            tour.get((String) top[0])[1] = clock++;
            stack.pop();
          }
        }
      }
    }

    /** True if value {@code b} is {@code a} or was derived from it. */
    private boolean descends(String b, String a) {
      int[] ta = tour.get(a);
      int[] tb = tour.get(b);
      return ta != null && tb != null && ta[0] <= tb[0] && tb[1] <= ta[1];
    }

    void check(List<Anomaly> out) {
      phantomReads(out);
      lostWrites(out);
      zombieWrites(out);
      twoOwners(out);
      resurrected(out);
    }

    private void phantomReads(List<Anomaly> out) {
      for (Op r : reads) {
        String v = r.returned().orElse(null);
        if (v == null) {
          continue;
        }
        Op s = stashOf.get(v);
        if (s == null) {
          out.add(
              new Anomaly(Kind.PHANTOM_READ, key, "returned " + v + ", never written", List.of(r)));
        } else if (!s.possiblyApplied()) {
          out.add(
              new Anomaly(
                  Kind.PHANTOM_READ,
                  key,
                  "returned " + v + ", written by a stash that failed with " + s.result(),
                  List.of(r, s)));
        }
      }
    }

    /** (a) An ok stash that a pickup or read invoked after its acknowledgement does not reach. */
    private void lostWrites(List<Anomaly> out) {
      var reported = new HashSet<Op>();
      for (Op r : reads) {
        String v = r.returned().orElse(null);
        if (v != null && !stashOf.containsKey(v)) {
          continue; // a phantom: reported on its own
        }
        // After a possible end the session may read as absent, and a value read then is the
        // concern of the resurrection rule.
        boolean afterEnd = possibleEnds.stream().anyMatch(e -> e.invokedAt() < r.completedAt());
        if (afterEnd) {
          continue;
        }
        for (Op s : okStashes) {
          if (s.completedAt() >= r.invokedAt()) {
            break;
          }
          if (reported.contains(s) || (v != null && descends(v, s.written()))) {
            continue;
          }
          reported.add(s);
          out.add(
              new Anomaly(
                  Kind.LOST_WRITE,
                  key,
                  "stash of "
                      + s.written()
                      + " was acknowledged, then a "
                      + r.type().name().toLowerCase()
                      + " invoked after it returned "
                      + (v == null ? "absent" : v + ", which does not descend from it"),
                  List.of(s, r)));
        }
      }
    }

    /**
     * (c) An ok stash acknowledged after another writer's pickup of the session completed, or
     * invoked after the session was ended.
     */
    private void zombieWrites(List<Anomaly> out) {
      var reported = new HashSet<Op>();
      for (Op e : okEnds) {
        for (Op s : okStashes) {
          if (s.invokedAt() > e.completedAt() && !reacquired(s.writer(), e, s) && reported.add(s)) {
            out.add(
                new Anomaly(
                    Kind.ZOMBIE_WRITE,
                    key,
                    s.writer()
                        + "'s stash of "
                        + s.written()
                        + " was acknowledged, invoked after "
                        + e.writer()
                        + " had ended the session",
                    List.of(s, e)));
          }
        }
      }
      for (Op p : reads) {
        if (!p.acquired()) {
          continue;
        }
        String seen = p.returned().orElseThrow();
        for (Op s : okStashes) {
          if (s.completedAt() <= p.completedAt()
              || reported.contains(s)
              || s.writer().equals(p.writer())
              || laterIncarnation(s.writer(), p.writer())) {
            continue;
          }
          boolean invokedAfter = s.invokedAt() > p.completedAt();
          boolean unseen = stashOf.containsKey(seen) && !descends(seen, s.written());
          if (!(invokedAfter || unseen) || reacquired(s.writer(), p, s)) {
            continue;
          }
          reported.add(s);
          out.add(
              new Anomaly(
                  Kind.ZOMBIE_WRITE,
                  key,
                  s.writer()
                      + "'s stash of "
                      + s.written()
                      + " was acknowledged after "
                      + p.writer()
                      + "'s pickup had completed"
                      + (invokedAfter ? " (and was invoked after it)" : "")
                      + (unseen
                          ? "; the pickup returned " + seen + ", which does not include it"
                          : ""),
                  List.of(s, p)));
        }
      }
    }

    /**
     * A pickup that may have given {@code writer} the session between {@code a} and {@code b}: its
     * own, or one of an earlier incarnation of its member (whose sessions its stashes re-claim).
     */
    private boolean reacquired(String writer, Op a, Op b) {
      for (var e : acquisitions.entrySet()) {
        if (!e.getKey().equals(writer) && !laterIncarnation(writer, e.getKey())) {
          continue;
        }
        for (Op q : e.getValue()) {
          if (q.completedAt() > a.invokedAt() && q.invokedAt() < b.completedAt()) {
            return true;
          }
        }
      }
      return false;
    }

    /** (b) Ok stashes of two writers that diverged, or interleaved in real time. */
    private void twoOwners(List<Anomaly> out) {
      var byWriter = new LinkedHashMap<String, List<Op>>();
      for (Op s : okStashes) {
        byWriter.computeIfAbsent(s.writer(), w -> new ArrayList<>()).add(s);
      }
      if (byWriter.size() < 2) {
        return;
      }
      var writers = new ArrayList<>(byWriter.keySet());
      boolean chain = isChain();
      for (int i = 0; i < writers.size(); i++) {
        for (int j = i + 1; j < writers.size(); j++) {
          List<Op> a = byWriter.get(writers.get(i));
          List<Op> b = byWriter.get(writers.get(j));
          Anomaly found = chain ? null : diverged(a, b);
          if (found == null) {
            found = interleaved(a, b);
          }
          if (found == null) {
            found = interleaved(b, a);
          }
          if (found != null) {
            out.add(found);
          }
        }
      }
    }

    /** True if every ok stash descends from every shallower one: the normal, single lineage. */
    private boolean isChain() {
      var sorted = new ArrayList<Op>();
      for (Op s : okStashes) {
        if (tour.containsKey(s.written())) {
          sorted.add(s);
        }
      }
      sorted.sort(Comparator.comparingInt(s -> tour.get(s.written())[0]));
      for (int i = 1; i < sorted.size(); i++) {
        if (!descends(sorted.get(i).written(), sorted.get(i - 1).written())) {
          return false;
        }
      }
      return true;
    }

    private Anomaly diverged(List<Op> a, List<Op> b) {
      for (Op x : a) {
        for (Op y : b) {
          if (tour.containsKey(x.written())
              && tour.containsKey(y.written())
              && !descends(x.written(), y.written())
              && !descends(y.written(), x.written())) {
            return new Anomaly(
                Kind.TWO_OWNERS,
                key,
                "ok stashes of "
                    + x.writer()
                    + " and "
                    + y.writer()
                    + " diverged: neither value descends from the other",
                List.of(x, y));
          }
        }
      }
      return null;
    }

    /**
     * An ok stash of {@code b}'s writer that lies, in real time, between two ok stashes of {@code
     * a}'s writer with no pickup by {@code a}'s writer in between.
     */
    private Anomaly interleaved(List<Op> a, List<Op> b) {
      var aByInvoke = new ArrayList<>(a);
      aByInvoke.sort(Comparator.comparingLong(Op::invokedAt));
      for (Op y : b) {
        Op x = null;
        for (Op s : a) { // a is by completion
          if (s.completedAt() < y.invokedAt()) {
            x = s;
          }
        }
        if (x == null) {
          continue;
        }
        Op z = null;
        for (Op s : aByInvoke) {
          if (s.invokedAt() > y.completedAt()) {
            z = s;
            break;
          }
        }
        if (z != null && !reacquired(z.writer(), y, z)) {
          return new Anomaly(
              Kind.TWO_OWNERS,
              key,
              y.writer()
                  + "'s ok stash lies between two ok stashes of "
                  + z.writer()
                  + ", which did not pick the session up in between",
              List.of(z, x, y));
        }
      }
      return null;
    }

    /** A session ended ok that a pickup or read invoked later finds. */
    private void resurrected(List<Anomaly> out) {
      for (Op e : okEnds) {
        for (Op r : reads) {
          if (r.invokedAt() > e.completedAt() && r.returned().isPresent()) {
            out.add(
                new Anomaly(
                    Kind.RESURRECTED,
                    key,
                    "ended ok by " + e.writer() + ", then read as " + r.returned().get(),
                    List.of(r, e)));
            return;
          }
        }
      }
    }
  }
}
