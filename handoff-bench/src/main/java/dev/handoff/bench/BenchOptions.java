package dev.handoff.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
    ROLLING,
    OVERLOAD
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

  /** The command line as picocli reads it: a named size, then overrides of its values. */
  @Command(
      name = "HandoffBench",
      sortOptions = false,
      usageHelpWidth = 100,
      customSynopsis = "HandoffBench [--size smoke|default|large] [overrides]",
      description = {
        "Handoff side by side with raw Kafka clients and Kafka Streams, on one embedded broker and"
            + " ZooKeeper. Numbers take _ and the suffixes k and M (50k, 1M).",
        ""
      })
  static final class CommandLineOptions {
    @Option(
        names = "--size",
        paramLabel = "smoke|default|large",
        defaultValue = "default",
        description = "the named size the overrides apply to [${DEFAULT-VALUE}]")
    String size;

    @Option(
        names = "--sessions",
        paramLabel = "N",
        converter = Positive.class,
        description = "sessions in the replay topic / replica (default size: 100k)")
    Integer sessions;

    @Option(
        names = "--value-bytes",
        paramLabel = "N",
        converter = Positive.class,
        description = "state size (1024)")
    Integer valueBytes;

    @Option(
        names = "--partitions",
        paramLabel = "N",
        converter = Positive.class,
        description = "partitions of every topic (12)")
    Integer partitions;

    @Option(
        names = "--stashes",
        paramLabel = "N",
        converter = Positive.class,
        description = "timed stashes per run (50k)")
    Integer stashes;

    @Option(
        names = "--stash-keys",
        paramLabel = "N",
        converter = Positive.class,
        description = "distinct sessions the stash scenario cycles through (10k)")
    Integer stashKeys;

    @Option(
        names = "--in-flight",
        paramLabel = "N",
        converter = Positive.class,
        description = "unacknowledged stashes/sends (256)")
    Integer inFlight;

    @Option(
        names = "--latency-samples",
        paramLabel = "N",
        converter = Positive.class,
        description = "sequential handoff-latency samples (1000)")
    Integer latencySamples;

    @Option(
        names = "--rolling-sessions",
        paramLabel = "N",
        converter = NonNegative.class,
        description = "sessions on each of the 3 nodes of the rolling deploy (10k; 0 skips)")
    Integer rollingSessions;

    @Option(
        names = "--rolling-modes",
        paramLabel = "drain,restart,stash_pickup",
        converter = RollingModes.class,
        description = "how the rolling deploy rolls")
    List<String> rollingModes;

    @Option(
        names = "--repeats",
        paramLabel = "N",
        converter = Positive.class,
        description = "alternating runs per contender, median reported (3)")
    Integer repeats;

    @Option(
        names = "--scenarios",
        paramLabel = "replay,stash,latency,memory,rolling",
        converter = Scenarios.class,
        description = "which scenarios run (all)")
    Set<Scenario> scenarios;

    @Option(
        names = "--profiles",
        paramLabel = "defaults,fetch20",
        converter = Profiles.class,
        description = "consumer settings for stash/latency")
    List<ClientProfile> profiles;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        description = "where bench-results.md/.json go (handoff-bench/target)")
    Path out;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "print this and exit")
    boolean help;
  }

  /** What {@code --help} prints. */
  public static final String USAGE =
      new CommandLine(new CommandLineOptions()).getUsageMessage(CommandLine.Help.Ansi.OFF);

  /**
   * Parses {@code --size X} and overrides such as {@code --sessions 50000}; null for {@code
   * --help}.
   *
   * @throws IllegalArgumentException naming the bad option
   */
  public static BenchOptions parse(String[] args) {
    var c = new CommandLineOptions();
    var cli = new CommandLine(c);
    try {
      cli.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (cli.isUsageHelpRequested()) {
      return null;
    }
    return ofSize(c.size)
        .with(
            b -> {
              b.sessions = or(c.sessions, b.sessions);
              b.valueBytes = or(c.valueBytes, b.valueBytes);
              b.partitions = or(c.partitions, b.partitions);
              b.stashes = or(c.stashes, b.stashes);
              b.stashKeys = or(c.stashKeys, b.stashKeys);
              b.inFlight = or(c.inFlight, b.inFlight);
              b.latencySamples = or(c.latencySamples, b.latencySamples);
              b.rollingSessions = or(c.rollingSessions, b.rollingSessions);
              b.rollingModes = or(c.rollingModes, b.rollingModes);
              b.repeats = or(c.repeats, b.repeats);
              b.scenarios = or(c.scenarios, b.scenarios);
              b.profiles = or(c.profiles, b.profiles);
              b.outDir = or(c.out, b.outDir);
            });
  }

  private static <V> V or(V given, V fallback) {
    return given != null ? given : fallback;
  }

  /** A count above zero, with {@code _}, {@code k} and {@code M}. */
  static final class Positive implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String v) {
      int n = count(v);
      if (n == 0) {
        throw new CommandLine.TypeConversionException("must be > 0, was " + v);
      }
      return n;
    }
  }

  /** A count, zero allowed. */
  static final class NonNegative implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String v) {
      return count(v);
    }
  }

  /** A comma-separated list of scenarios. */
  static final class Scenarios implements CommandLine.ITypeConverter<Set<Scenario>> {
    @Override
    public Set<Scenario> convert(String v) {
      try {
        return scenarios(v);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** A comma-separated list of rolling modes. */
  static final class RollingModes implements CommandLine.ITypeConverter<List<String>> {
    @Override
    public List<String> convert(String v) {
      try {
        return rollingModes(v);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** A comma-separated list of client profiles. */
  static final class Profiles implements CommandLine.ITypeConverter<List<ClientProfile>> {
    @Override
    public List<ClientProfile> convert(String v) {
      try {
        return profiles(v);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
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

  private static int count(String v) {
    int n;
    try {
      n = Integer.parseInt(v.replace("_", "").replace("k", "000").replace("M", "000000"));
    } catch (NumberFormatException e) {
      throw new CommandLine.TypeConversionException("must be a number, was '" + v + "'");
    }
    if (n < 0) {
      throw new CommandLine.TypeConversionException("must be >= 0, was " + v);
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
                + "'; known: replay,stash,latency,memory,rolling,overload");
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
