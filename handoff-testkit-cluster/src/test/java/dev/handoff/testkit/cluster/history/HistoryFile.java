package dev.handoff.testkit.cluster.history;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The on-disk form of a node's history: one tab-separated line when an operation is invoked and one
 * when it completes.
 *
 * <pre>
 * I  node seq writer type key written|- base|- invokedAt
 * C  node seq completedAt ok|fail|unknown result|-
 * </pre>
 *
 * For an ok pickup or read the result is {@code +value} or {@code -} (absent); for a failure the
 * exception's simple class name. An invocation without a completion line is an operation whose
 * outcome is unknown. Keys and values must not contain tabs or line breaks.
 */
public final class HistoryFile {
  private HistoryFile() {}

  /**
   * Appends one process's operations to a file. Every line is one {@code write} to the file
   * descriptor, so a {@code kill -9} loses only the lines of calls in flight (the kernel keeps what
   * was written; no fsync is needed when only the process dies). Thread-safe.
   */
  public static final class Recorder implements AutoCloseable {
    private final String node;
    private final FileOutputStream out;
    private final AtomicLong seqs = new AtomicLong();

    private Recorder(String node, Path file) throws IOException {
      this.node = node;
      Files.createDirectories(file.toAbsolutePath().getParent());
      this.out = new FileOutputStream(file.toFile(), true);
    }

    /** The process name in every line. */
    public String node() {
      return node;
    }

    /** Records an invocation at {@code System.nanoTime()}; returns its sequence number. */
    public long invoke(String writer, Op.Type type, String key, String written, String base) {
      long seq = seqs.incrementAndGet();
      write(
          String.join(
              "\t",
              "I",
              node,
              Long.toString(seq),
              writer,
              type.name(),
              key,
              written == null ? "-" : written,
              base == null ? "-" : base,
              Long.toString(System.nanoTime())));
      return seq;
    }

    /** Records that {@code seq} completed ok; {@code returned} only for a pickup or read. */
    public void ok(long seq, Op.Type type, String returned) {
      String result =
          type == Op.Type.PICKUP || type == Op.Type.READ
              ? (returned == null ? "-" : "+" + returned)
              : "-";
      complete(seq, "ok", result);
    }

    /** Records that {@code seq} failed with {@code error} (a timeout counts as unknown). */
    public void failed(long seq, Throwable error, boolean timedOut) {
      complete(seq, timedOut ? "unknown" : "fail", error.getClass().getSimpleName());
    }

    private void complete(long seq, String outcome, String result) {
      write(
          String.join(
              "\t",
              "C",
              node,
              Long.toString(seq),
              Long.toString(System.nanoTime()),
              outcome,
              result));
    }

    private synchronized void write(String line) {
      try {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the history of " + node, e);
      }
    }

    @Override
    public synchronized void close() {
      try {
        out.close();
      } catch (IOException e) {
        // nothing more will be written
      }
    }
  }

  /** Opens (appending to) the history file of process {@code node}. */
  public static Recorder record(String node, Path file) {
    try {
      return new Recorder(node, file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open history file " + file, e);
    }
  }

  /** Writes the ending of a run (next to its histories), so the checker can be run again later. */
  public static void writeEnding(Path file, HistoryChecker.Ending ending) {
    var lines = new ArrayList<String>();
    new java.util.TreeSet<>(ending.liveWriters()).forEach(w -> lines.add("live\t" + w));
    new java.util.TreeMap<>(ending.owners()).forEach((k, w) -> lines.add("owner\t" + k + "\t" + w));
    new java.util.TreeMap<>(ending.hosted())
        .forEach(
            (w, keys) ->
                lines.add("hosted\t" + w + "\t" + String.join(",", new java.util.TreeSet<>(keys))));
    try {
      Files.write(file, lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Reads what {@link #writeEnding} wrote. */
  public static HistoryChecker.Ending readEnding(Path file) {
    var live = new java.util.HashSet<String>();
    var owners = new java.util.HashMap<String, String>();
    var hosted = new java.util.HashMap<String, java.util.Set<String>>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] f = line.split("\t", -1);
        switch (f[0]) {
          case "live" -> live.add(f[1]);
          case "owner" -> owners.put(f[1], f[2]);
          case "hosted" ->
              hosted.put(
                  f[1], f[2].isEmpty() ? java.util.Set.of() : java.util.Set.of(f[2].split(",")));
          default -> throw new IllegalArgumentException("not an ending line: " + line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return new HistoryChecker.Ending(live, owners, hosted);
  }

  /** Reads and merges history files; operations in invocation order. */
  public static List<Op> read(Collection<Path> files) {
    var lines = new ArrayList<String>();
    for (Path f : files) {
      try {
        lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read history file " + f, e);
      }
    }
    return parse(lines);
  }

  /**
   * Merges invocation and completion lines (in any order across processes). A last line cut short
   * by a kill is ignored.
   */
  public static List<Op> parse(List<String> lines) {
    Map<String, String[]> invoked = new LinkedHashMap<>();
    Map<String, String[]> completed = new LinkedHashMap<>();
    for (String line : lines) {
      String[] f = line.split("\t", -1);
      if (f[0].equals("I") && f.length == 9) {
        invoked.put(f[1] + "/" + f[2], f);
      } else if (f[0].equals("C") && f.length == 6) {
        completed.put(f[1] + "/" + f[2], f);
      }
    }
    var ops = new ArrayList<Op>(invoked.size());
    for (var e : invoked.entrySet()) {
      String[] i = e.getValue();
      String[] c = completed.get(e.getKey());
      var type = Op.Type.valueOf(i[4]);
      Op.Outcome outcome = Op.Outcome.UNKNOWN;
      String result = null;
      long completedAt = Long.MAX_VALUE;
      if (c != null) {
        completedAt = Long.parseLong(c[3]);
        outcome = Op.Outcome.valueOf(c[4].toUpperCase(java.util.Locale.ROOT));
        result = c[5].equals("-") ? null : c[5].startsWith("+") ? c[5].substring(1) : c[5];
        if (outcome == Op.Outcome.OK && !(type == Op.Type.PICKUP || type == Op.Type.READ)) {
          result = null;
        }
      }
      ops.add(
          new Op(
              i[1],
              Long.parseLong(i[2]),
              i[3],
              type,
              i[5],
              i[6].equals("-") ? null : i[6],
              i[7].equals("-") ? null : i[7],
              Long.parseLong(i[8]),
              completedAt,
              outcome,
              result));
    }
    ops.sort(
        java.util.Comparator.comparingLong(Op::invokedAt)
            .thenComparing(Op::node)
            .thenComparingLong(Op::seq));
    return ops;
  }
}
