package dev.handoff.bench;

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
    var sb = new StringBuilder("{\n");
    sb.append("  \"started\": ").append(str(started.toString())).append(",\n");
    sb.append("  \"size\": ").append(str(options.size())).append(",\n");
    sb.append("  \"options\": {")
        .append("\"sessions\": ")
        .append(options.sessions())
        .append(", \"valueBytes\": ")
        .append(options.valueBytes())
        .append(", \"partitions\": ")
        .append(options.partitions())
        .append(", \"stashes\": ")
        .append(options.stashes())
        .append(", \"stashKeys\": ")
        .append(options.stashKeys())
        .append(", \"inFlight\": ")
        .append(options.inFlight())
        .append(", \"latencySamples\": ")
        .append(options.latencySamples())
        .append(", \"rollingSessions\": ")
        .append(options.rollingSessions())
        .append(", \"repeats\": ")
        .append(options.repeats())
        .append("},\n");
    sb.append("  \"machine\": {");
    boolean first = true;
    for (var e : machine().entrySet()) {
      sb.append(first ? "" : ", ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
      first = false;
    }
    sb.append("},\n  \"figures\": [\n");
    List<Figure> fs = figures();
    for (int i = 0; i < fs.size(); i++) {
      Figure f = fs.get(i);
      sb.append("    {\"id\": ")
          .append(f.id() == null ? "null" : str(f.id()))
          .append(", \"scenario\": ")
          .append(str(f.scenario()))
          .append(", \"measure\": ")
          .append(str(f.measure()))
          .append(", \"handoff\": ")
          .append(jnum(f.handoff()))
          .append(", \"baseline\": ")
          .append(str(f.baseline()))
          .append(", \"baselineValue\": ")
          .append(jnum(f.baselineValue()))
          .append(", \"ratio\": ")
          .append(jnum(f.ratio()))
          .append(", \"ratioUnit\": ")
          .append(str(f.ratioUnit().trim()))
          .append(", \"target\": ")
          .append(str(f.target()))
          .append(", \"met\": ")
          .append(f.met() == null ? "null" : f.met().toString())
          .append(i + 1 < fs.size() ? "},\n" : "}\n");
    }
    sb.append("  ],\n  \"notes\": [");
    List<String> ns = notes();
    for (int i = 0; i < ns.size(); i++) {
      sb.append(i == 0 ? "\n    " : ",\n    ").append(str(ns.get(i)));
    }
    sb.append(ns.isEmpty() ? "],\n" : "\n  ],\n");
    sb.append("  \"failures\": [");
    List<String> fl = failures();
    for (int i = 0; i < fl.size(); i++) {
      sb.append(i == 0 ? "" : ", ").append(str(fl.get(i)));
    }
    sb.append("]\n}\n");
    return sb.toString();
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

  private static String jnum(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? "null" : Double.toString(v);
  }

  private static String str(String s) {
    var sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
