package dev.handoff.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What {@link HandoffBench} runs and at which size. Built from {@code --size smoke|default|large}
 * and optional overrides; {@link #parse} names a bad option in its error.
 *
 * @param size the named size the run started from
 * @param sessions sessions in the replay topic (and held by the replica in the memory scenario)
 * @param valueBytes bytes of every session state
 * @param partitions partitions of every topic the benchmark creates
 * @param stashes timed stashes (and producer sends) per run of the stash scenario
 * @param stashKeys distinct sessions the stash scenario cycles through
 * @param inFlight bound on unacknowledged stashes (and producer sends)
 * @param latencySamples sequential samples of the handoff-latency scenario
 * @param rollingSessions sessions on each of the 3 nodes of the rolling-deploy scenario (0 skips)
 * @param rollingModes which ways of rolling the nodes run: {@code drain}, {@code restart}, {@code
 *     stash_pickup}
 * @param repeats runs of each replay and stash contender, alternating; the median is reported
 * @param scenarios which scenarios run
 * @param profiles which consumer settings the stash and latency scenarios run with (the rolling
 *     deploy's node JVMs use the demo's own)
 * @param outDir where bench-results.md and bench-results.json go
 */
public record BenchOptions(
    String size,
    int sessions,
    int valueBytes,
    int partitions,
    int stashes,
    int stashKeys,
    int inFlight,
    int latencySamples,
    int rollingSessions,
    List<String> rollingModes,
    int repeats,
    Set<Scenario> scenarios,
    List<ClientProfile> profiles,
    Path outDir) {

  /** The scenarios of the issue. */
  public enum Scenario {
    REPLAY,
    STASH,
    LATENCY,
    MEMORY,
    ROLLING
  }

  /** The options of a named size, writing to {@code handoff-bench/target} (or {@code target}). */
  public static BenchOptions ofSize(String size) {
    Path out = Path.of("handoff-bench", "target");
    if (!out.getParent().toFile().isDirectory()) {
      out = Path.of("target");
    }
    var all = new LinkedHashSet<>(List.of(Scenario.values()));
    var bothProfiles = List.of(ClientProfile.LIBRARY_DEFAULTS, ClientProfile.FETCH_WAIT_20);
    var modes = ROLLING_MODES;
    return switch (size) {
      case "smoke" ->
          new BenchOptions(
              size,
              2_000,
              1024,
              4,
              2_000,
              500,
              128,
              30,
              300,
              modes,
              1,
              all,
              List.of(ClientProfile.FETCH_WAIT_20),
              out);
      case "default" ->
          new BenchOptions(
              size,
              100_000,
              1024,
              12,
              50_000,
              10_000,
              256,
              1_000,
              10_000,
              modes,
              3,
              all,
              bothProfiles,
              out);
      case "large" ->
          new BenchOptions(
              size,
              1_000_000,
              1024,
              12,
              200_000,
              20_000,
              256,
              2_000,
              0, // 3 × 100k on request: --rolling-sessions 100000 (and -Xmx8g)
              modes,
              1,
              all,
              bothProfiles,
              out);
      default ->
          throw new IllegalArgumentException(
              "--size must be smoke, default or large, was '" + size + "'");
    };
  }

  /** Parses {@code --size X} and overrides such as {@code --sessions 50000}. */
  public static BenchOptions parse(String[] args) {
    String size = "default";
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--size")) {
        size = args[i + 1];
      }
    }
    BenchOptions o = ofSize(size);
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + name + " needs a value");
      }
      String v = args[i + 1];
      o =
          switch (name) {
            case "--size" -> o;
            case "--sessions" -> o.with(b -> b.sessions = positive(name, v));
            case "--value-bytes" -> o.with(b -> b.valueBytes = positive(name, v));
            case "--partitions" -> o.with(b -> b.partitions = positive(name, v));
            case "--stashes" -> o.with(b -> b.stashes = positive(name, v));
            case "--stash-keys" -> o.with(b -> b.stashKeys = positive(name, v));
            case "--in-flight" -> o.with(b -> b.inFlight = positive(name, v));
            case "--latency-samples" -> o.with(b -> b.latencySamples = positive(name, v));
            case "--rolling-sessions" -> o.with(b -> b.rollingSessions = nonNegative(name, v));
            case "--rolling-modes" -> o.with(b -> b.rollingModes = rollingModes(v));
            case "--repeats" -> o.with(b -> b.repeats = positive(name, v));
            case "--out" -> o.with(b -> b.outDir = Path.of(v));
            case "--scenarios" -> o.with(b -> b.scenarios = scenarios(v));
            case "--profiles" -> o.with(b -> b.profiles = profiles(v));
            default ->
                throw new IllegalArgumentException(
                    "unknown option " + name + "; see HandoffBench --help");
          };
    }
    return o;
  }

  private static final class Mutable {
    int sessions;
    int valueBytes;
    int partitions;
    int stashes;
    int stashKeys;
    int inFlight;
    int latencySamples;
    int rollingSessions;
    List<String> rollingModes;
    int repeats;
    Set<Scenario> scenarios;
    List<ClientProfile> profiles;
    Path outDir;
  }

  private BenchOptions with(java.util.function.Consumer<Mutable> change) {
    var m = new Mutable();
    m.sessions = sessions;
    m.valueBytes = valueBytes;
    m.partitions = partitions;
    m.stashes = stashes;
    m.stashKeys = stashKeys;
    m.inFlight = inFlight;
    m.latencySamples = latencySamples;
    m.rollingSessions = rollingSessions;
    m.rollingModes = rollingModes;
    m.repeats = repeats;
    m.scenarios = scenarios;
    m.profiles = profiles;
    m.outDir = outDir;
    change.accept(m);
    return new BenchOptions(
        size,
        m.sessions,
        m.valueBytes,
        m.partitions,
        m.stashes,
        m.stashKeys,
        m.inFlight,
        m.latencySamples,
        m.rollingSessions,
        m.rollingModes,
        m.repeats,
        m.scenarios,
        m.profiles,
        m.outDir);
  }

  /** This run's options with another output directory. */
  public BenchOptions withOutDir(Path dir) {
    return with(b -> b.outDir = dir);
  }

  public boolean runs(Scenario s) {
    return scenarios.contains(s);
  }

  private static int positive(String name, String v) {
    int n = nonNegative(name, v);
    if (n == 0) {
      throw new IllegalArgumentException(name + " must be > 0, was " + v);
    }
    return n;
  }

  private static int nonNegative(String name, String v) {
    int n;
    try {
      n = Integer.parseInt(v.replace("_", "").replace("k", "000").replace("M", "000000"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, was '" + v + "'");
    }
    if (n < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, was " + v);
    }
    return n;
  }

  private static Set<Scenario> scenarios(String v) {
    var out = new LinkedHashSet<Scenario>();
    for (String s : v.split(",")) {
      try {
        out.add(Scenario.valueOf(s.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "--scenarios: unknown scenario '"
                + s
                + "'; known: replay,stash,latency,memory,rolling");
      }
    }
    return out;
  }

  /** The ways the rolling-deploy scenario can roll its nodes, in the order they run. */
  static final List<String> ROLLING_MODES = List.of("drain", "restart", "stash_pickup");

  private static List<String> rollingModes(String v) {
    var out = new ArrayList<String>();
    for (String s : v.split(",")) {
      String m = s.trim();
      if (!ROLLING_MODES.contains(m)) {
        throw new IllegalArgumentException(
            "--rolling-modes: unknown mode '" + m + "'; known: drain,restart,stash_pickup");
      }
      out.add(m);
    }
    return List.copyOf(out);
  }

  private static List<ClientProfile> profiles(String v) {
    var out = new ArrayList<ClientProfile>();
    for (String s : v.split(",")) {
      out.add(ClientProfile.parse(s.trim()));
    }
    return out;
  }
}
