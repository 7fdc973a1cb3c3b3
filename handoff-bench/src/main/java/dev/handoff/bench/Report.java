package dev.handoff.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Collects figures and notes of one run and writes them as Markdown and JSON. */
public final class Report {
  private static final ObjectMapper JSON = new ObjectMapper();
  // "key": value, as the results files always had it (Jackson's default is "key" : value).
  private static final DefaultPrettyPrinter PRETTY =
      new DefaultPrettyPrinter()
          .withSeparators(
              Separators.createDefaultInstance()
                  .withObjectFieldValueSpacing(Separators.Spacing.AFTER));

  private final BenchOptions options;
  private final Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final List<Figure> figures = Collections.synchronizedList(new ArrayList<>());
  private final List<String> notes = Collections.synchronizedList(new ArrayList<>());
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

  Report(BenchOptions options) {
    this.options = options;
  }

  void add(Figure f) {
    figures.add(f);
    System.out.printf(
        Locale.ROOT,
        "  %-14s %-52s %12s %s%n",
        f.scenario(),
        f.measure(),
        num(f.handoff()),
        f.baseline().isEmpty()
            ? ""
            : "vs " + num(f.baselineValue()) + " (" + f.baseline() + ") " + comparison(f));
  }

  void note(String note) {
    notes.add(note);
    System.out.println("  note: " + note);
  }

  void failure(String scenario, Throwable e) {
    failures.add(scenario + ": " + e);
    System.out.println("  FAILED " + scenario + ": " + e);
  }

  public List<Figure> figures() {
    return List.copyOf(figures);
  }

  public List<String> notes() {
    return List.copyOf(notes);
  }

  public List<String> failures() {
    return List.copyOf(failures);
  }

  /** Machine facts for the table's heading. */
  static Map<String, String> machine() {
    var m = new TreeMap<String, String>();
    m.put("cpu", cpuModel());
    m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
    m.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("maxHeapMiB", Long.toString(Runtime.getRuntime().maxMemory() >> 20));
    m.put(
        "gc",
        String.join(
            ",",
            ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(b -> b.getName())
                .toList()));
    return m;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    return System.getProperty("os.arch");
  }

  String markdown() {
    var sb = new StringBuilder();
    Map<String, String> m = machine();
    sb.append("Size `")
        .append(options.size())
        .append("` (")
        .append(String.format(Locale.ROOT, "%,d", options.sessions()))
        .append(" sessions × ")
        .append(options.valueBytes())
        .append(" B, ")
        .append(options.partitions())
        .append(" partitions, one embedded KRaft broker and one ZooKeeper in the same JVM), run ")
        .append(started)
        .append(" on ")
        .append(m.get("cpu"))
        .append(", ")
        .append(m.get("cores"))
        .append(" cores, ")
        .append(m.get("os"))
        .append(", ")
        .append(m.get("java"))
        .append(", heap ")
        .append(m.get("maxHeapMiB"))
        .append(" MiB (")
        .append(m.get("gc"))
        .append(").\n\n");
    sb.append(
        "| Scenario | Measure | Handoff | Baseline (same run) | Baseline | Ratio | Target | Met |\n");
    sb.append("| --- | --- | ---: | --- | ---: | ---: | --- | --- |\n");
    for (Figure f : figures()) {
      sb.append("| ")
          .append(f.scenario())
          .append(" | ")
          .append(f.measure())
          .append(" | ")
          .append(num(f.handoff()))
          .append(" | ")
          .append(f.baseline())
          .append(" | ")
          .append(Double.isNaN(f.baselineValue()) ? "" : num(f.baselineValue()))
          .append(" | ")
          .append(Double.isNaN(f.ratio()) ? "" : comparison(f))
          .append(" | ")
          .append(f.target())
          .append(" | ")
          .append(f.met() == null ? "" : f.met() ? "yes" : "**no**")
          .append(" |\n");
    }
    if (!notes.isEmpty()) {
      sb.append("\nNotes:\n\n");
      for (String n : notes()) {
        sb.append("- ").append(n).append('\n');
      }
    }
    if (!failures.isEmpty()) {
      sb.append("\nFailed scenarios:\n\n");
      for (String n : failures()) {
        sb.append("- ").append(n).append('\n');
      }
    }
    return sb.toString();
  }

  String json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("started", started.toString());
    root.put("size", options.size());
    root.putObject("options")
        .put("sessions", options.sessions())
        .put("valueBytes", options.valueBytes())
        .put("partitions", options.partitions())
        .put("stashes", options.stashes())
        .put("stashKeys", options.stashKeys())
        .put("inFlight", options.inFlight())
        .put("latencySamples", options.latencySamples())
        .put("rollingSessions", options.rollingSessions())
        .put("repeats", options.repeats());
    ObjectNode machine = root.putObject("machine");
    machine().forEach(machine::put);
    ArrayNode figureArray = root.putArray("figures");
    for (Figure f : figures()) {
      ObjectNode n =
          figureArray
              .addObject()
              .put("id", f.id()) // null for figures that have no stable id yet
              .put("scenario", f.scenario())
              .put("measure", f.measure());
      number(n, "handoff", f.handoff());
      n.put("baseline", f.baseline());
      number(n, "baselineValue", f.baselineValue());
      number(n, "ratio", f.ratio());
      n.put("ratioUnit", f.ratioUnit().trim()).put("target", f.target()).put("met", f.met());
    }
    ArrayNode noteArray = root.putArray("notes");
    notes().forEach(noteArray::add);
    ArrayNode failureArray = root.putArray("failures");
    failures().forEach(failureArray::add);
    try {
      return JSON.writer(PRETTY).writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the results as JSON", e);
    }
  }

  /** A number, or null where there is none (NaN, infinite): JSON has no NaN. */
  private static void number(ObjectNode node, String field, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      node.putNull(field);
    } else {
      node.put(field, v);
    }
  }

  /** Writes bench-results.md and bench-results.json into the output directory. */
  List<Path> write() {
    try {
      Files.createDirectories(options.outDir());
      Path md = options.outDir().resolve("bench-results.md");
      Path json = options.outDir().resolve("bench-results.json");
      Files.writeString(md, markdown());
      Files.writeString(json, json());
      return List.of(md, json);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + options.outDir(), e);
    }
  }

  private static String comparison(Figure f) {
    return f.ratioUnit().equals("×")
        ? num(f.ratio()) + "×"
        : (f.ratio() >= 0 ? "+" : "") + num(f.ratio()) + f.ratioUnit();
  }

  static String num(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    double a = Math.abs(v);
    if (a >= 1000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
