package dev.handoff.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child JVM started by this one, for tests and demos that need a real process: {@code kill -9}, a
 * SIGTERM that runs the child's shutdown hooks, a SIGSTOP that freezes it.
 *
 * <p>The child runs {@code java} from this JVM's {@code java.home} with the serial collector and C1
 * only (small JVMs that start quickly on a machine with few cores), then the {@linkplain
 * Builder#jvmOptions options}, {@linkplain Builder#systemProperty system properties} and class path
 * of the builder (by default this JVM's {@code java.class.path}), its main class and arguments. Its
 * standard error, and its standard output unless that is {@linkplain Builder#onOutputLine read as
 * lines}, are appended to the log file. Its standard input is a pipe that stays open until {@link
 * #closeInput()} or its exit, so a child can take the end of its input to mean that its parent is
 * gone.
 *
 * <p>Signals go to the child's pid and never close the pipes, so what the child prints while it
 * shuts down is still read. If this JVM shuts down while the child runs, a shutdown hook sends it
 * SIGTERM and, after its {@linkplain Builder#shutdownGrace grace}, SIGKILL (at once if it is
 * stopped by SIGSTOP). Methods are thread-safe; {@link #close()} is idempotent and never throws.
 */
public final class JvmProcess implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JvmProcess.class);
  private static final Set<JvmProcess> RUNNING = ConcurrentHashMap.newKeySet();
  private static final List<String> QUICK_START =
      List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final int LOG_TAIL_LINES = 40;

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(JvmProcess::stopAllOnExit, "jvm-process-cleanup"));
  }

  private final String name;
  private final Process process;
  private final Path logFile;
  private final Predicate<String> readyLine;
  private final BooleanSupplier readyWhen;
  private final Duration shutdownGrace;
  private final Writer stdin;
  private final CompletableFuture<String> ready = new CompletableFuture<>();
  private final CompletableFuture<Integer> exited = new CompletableFuture<>();
  private volatile boolean stopped;
  private volatile boolean closed;

  private JvmProcess(Builder b, String name, Duration shutdownGrace, Process process) {
    this.name = name;
    this.process = process;
    this.logFile = b.logFile;
    this.readyLine = b.readyLine;
    this.readyWhen = b.readyWhen;
    this.shutdownGrace = shutdownGrace;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
  }

  /** Starts describing a child JVM that runs {@code mainClass}. */
  public static Builder builder(String mainClass) {
    return new Builder(mainClass);
  }

  /** Starts describing a child JVM that runs {@code mainClass}. */
  public static Builder builder(Class<?> mainClass) {
    return new Builder(Objects.requireNonNull(mainClass, "mainClass").getName());
  }

  /** The name used in messages and thread names. */
  public String name() {
    return name;
  }

  /** The child's operating-system process id. */
  public long pid() {
    return process.pid();
  }

  /** True while the child runs (also while it is stopped by SIGSTOP). */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** The file the child's output is appended to. */
  public Path logFile() {
    return logFile;
  }

  /**
   * Waits until the child is ready: a line of its standard output matched {@link
   * Builder#readyWhenOutput}, or {@link Builder#readyWhen} held (polled every 20 ms). Without
   * either, the child counts as ready once started. A child that exits first, or is not ready
   * within {@code timeout}, is killed.
   *
   * @return the line that made it ready; empty if readiness is not a line
   * @throws IllegalStateException if the child exited before it was ready or was not ready within
   *     {@code timeout}; the message holds the last lines of its log
   */
  public Optional<String> awaitReady(Duration timeout) {
    try {
      if (readyLine != null) {
        return Optional.of(ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
      }
      if (readyWhen != null) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
          if (!process.isAlive()) {
            throw exitedBeforeReady(process.exitValue());
          }
          if (readyWhen.getAsBoolean()) {
            break;
          }
          if (System.nanoTime() - deadline > 0) {
            throw new TimeoutException();
          }
          Thread.sleep(20); // polling the condition
        }
      }
      return Optional.empty();
    } catch (TimeoutException e) {
      sigkill();
      throw new IllegalStateException(
          name + " was not ready within " + timeout + "; " + logTail(), e);
    } catch (ExecutionException e) {
      sigkill();
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      sigkill();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    } catch (RuntimeException e) {
      sigkill();
      throw e;
    }
  }

  /**
   * Writes {@code line} and a newline to the child's standard input.
   *
   * @throws UncheckedIOException if the child's input is closed (it exited, or {@link
   *     #closeInput()} was called)
   */
  public void send(String line) {
    try {
      synchronized (stdin) {
        stdin.write(line + "\n");
        stdin.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(name + " takes no more input", e);
    }
  }

  /** Closes the child's standard input (it reads end of stream). Idempotent. */
  public void closeInput() {
    try {
      synchronized (stdin) {
        stdin.close();
      }
    } catch (IOException ignored) {
      // the child is gone already
    }
  }

  /** Sends SIGTERM (the child's shutdown hooks run); returns at once. No-op once it exited. */
  public void sigterm() {
    process.toHandle().destroy();
  }

  /** Sends SIGKILL ({@code kill -9}: no shutdown hooks); returns at once. No-op once it exited. */
  public void sigkill() {
    process.toHandle().destroyForcibly();
  }

  /**
   * Sends SIGSTOP: the child is frozen (no thread runs, its sockets stay open, timers expire around
   * it) until {@link #sigcont()}.
   *
   * @throws IllegalStateException if the child is not running or the signal cannot be sent
   */
  public void sigstop() {
    signal("STOP");
    stopped = true;
  }

  /**
   * Sends SIGCONT: a child frozen by {@link #sigstop()} runs again.
   *
   * @throws IllegalStateException if the child is not running or the signal cannot be sent
   */
  public void sigcont() {
    signal("CONT");
    stopped = false;
  }

  /**
   * Waits until the child has exited and its standard output, if read as lines, has been read to
   * the end.
   *
   * @return false if it is still running after {@code timeout}
   */
  public boolean awaitExit(Duration timeout) throws InterruptedException {
    try {
      exited.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Completes with the child's exit code once it has exited and its standard output, if read as
   * lines, has been read to the end; on the thread that read it (or a JDK thread).
   */
  public CompletableFuture<Integer> exited() {
    return exited.copy();
  }

  /**
   * Sends SIGTERM (and SIGCONT if the child is stopped), waits up to {@code grace} for the exit,
   * then sends SIGKILL and waits up to {@code grace} again.
   *
   * @return true if the child has exited
   */
  public boolean stop(Duration grace) throws InterruptedException {
    if (!process.isAlive()) {
      return awaitExit(grace);
    }
    sigterm();
    if (stopped) {
      // SIGTERM stays pending while the child is stopped.
      sigcont();
    }
    if (awaitExit(grace)) {
      return true;
    }
    LOG.warn("{} ignored SIGTERM for {}; killing it", name, grace);
    sigkill();
    return awaitExit(grace);
  }

  /**
   * Stops the child ({@link #stop(Duration)} with the shutdown grace). Idempotent; never throws.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stop(shutdownGrace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      sigkill();
    } catch (RuntimeException e) {
      LOG.warn("error stopping {}", name, e);
      sigkill();
    } finally {
      closeInput();
    }
  }

  /** The last lines of the log file, for a failure message. */
  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return "last lines of "
          + logFile
          + ":\n"
          + String.join(
              "\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException e) {
      return "no log " + logFile + ": " + e.getMessage();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ")";
  }

  private IllegalStateException exitedBeforeReady(int code) {
    return new IllegalStateException(
        name + " exited with code " + code + " before it was ready; " + logTail());
  }

  private void signal(String signal) {
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " is not running");
    }
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + name + " failed: " + out.trim());
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill -" + signal + " for " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending SIG" + signal + " to " + name, e);
    }
  }

  private void readOutput(Consumer<String> lines) {
    try (var in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (lines != null) {
          try {
            lines.accept(line);
          } catch (RuntimeException e) {
            LOG.warn("{}: the output line consumer failed on {}", name, line, e);
          }
        }
        // After the consumer: whoever awaits readiness sees what the consumer made of the line.
        if (readyLine != null && !ready.isDone() && readyLine.test(line)) {
          ready.complete(line);
        }
      }
    } catch (IOException e) {
      // the child is gone; its exit is reported below
    }
    try {
      exitedWith(process.waitFor());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exited.completeExceptionally(e);
    }
  }

  private void exitedWith(int code) {
    RUNNING.remove(this);
    if (!ready.isDone()) {
      ready.completeExceptionally(exitedBeforeReady(code));
    }
    exited.complete(code);
  }

  private static void stopAllOnExit() {
    var children = List.copyOf(RUNNING);
    children.forEach(JvmProcess::sigterm);
    for (JvmProcess child : children) {
      if (child.stopped) {
        child.process.toHandle().destroyForcibly();
        continue;
      }
      try {
        if (!child.process.waitFor(child.shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
          child.sigkill();
        }
      } catch (InterruptedException e) {
        child.sigkill();
      }
    }
  }

  /**
   * How to start a child JVM. Every option may be set once (a second call throws {@link
   * IllegalStateException}); setters reject a bad value at once with an {@link
   * IllegalArgumentException}. {@link #start()} may be called more than once: each call starts a
   * new child with the same settings.
   */
  public static final class Builder {
    private final String mainClass;
    private String name;
    private List<String> args;
    private String classpath;
    private Integer maxHeapMegabytes;
    private List<String> jvmOptions;
    private final Map<String, String> systemProperties = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Path logFile;
    private Consumer<String> onOutputLine;
    private Predicate<String> readyLine;
    private BooleanSupplier readyWhen;
    private Duration shutdownGrace;

    private Builder(String mainClass) {
      if (mainClass == null || mainClass.isBlank()) {
        throw new IllegalArgumentException("mainClass must not be blank, was " + quote(mainClass));
      }
      this.mainClass = mainClass;
    }

    /** The name in messages and thread names; default the main class's simple name. */
    public Builder name(String name) {
      once("name", this.name);
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank, was " + quote(name));
      }
      this.name = name;
      return this;
    }

    /** The arguments of the main method; default none. */
    public Builder args(List<String> args) {
      once("args", this.args);
      Objects.requireNonNull(args, "args");
      if (args.stream().anyMatch(Objects::isNull)) {
        throw new IllegalArgumentException("args must not contain null, was " + args);
      }
      this.args = List.copyOf(args);
      return this;
    }

    /** The arguments of the main method; default none. */
    public Builder args(String... args) {
      return args(List.of(args));
    }

    /** The child's class path; default this JVM's {@code java.class.path}. */
    public Builder classpath(String classpath) {
      once("classpath", this.classpath);
      if (classpath == null || classpath.isBlank()) {
        throw new IllegalArgumentException("classpath must not be blank, was " + quote(classpath));
      }
      this.classpath = classpath;
      return this;
    }

    /** {@code -Xmx<megabytes>m}; default the JVM's own choice. */
    public Builder maxHeapMegabytes(int megabytes) {
      once("maxHeapMegabytes", maxHeapMegabytes);
      if (megabytes <= 0) {
        throw new IllegalArgumentException("maxHeapMegabytes must be positive, was " + megabytes);
      }
      this.maxHeapMegabytes = megabytes;
      return this;
    }

    /** JVM options after the heap and the quick-start ones, e.g. {@code -Xss512k}. */
    public Builder jvmOptions(String... options) {
      once("jvmOptions", jvmOptions);
      for (String o : options) {
        if (o == null || !o.startsWith("-")) {
          throw new IllegalArgumentException(
              "jvmOptions must each start with '-', was " + quote(o));
        }
      }
      this.jvmOptions = List.of(options);
      return this;
    }

    /** {@code -D<key>=<value>}; once per key. */
    public Builder systemProperty(String key, String value) {
      if (key == null || key.isBlank()) {
        throw new IllegalArgumentException(
            "systemProperty key must not be blank, was " + quote(key));
      }
      Objects.requireNonNull(value, "value");
      once("systemProperty " + key, systemProperties.get(key));
      systemProperties.put(key, value);
      return this;
    }

    /** An environment variable of the child, added to this JVM's environment; once per name. */
    public Builder environment(String name, String value) {
      if (name == null || name.isBlank() || name.contains("=")) {
        throw new IllegalArgumentException(
            "environment name must be non-blank without '=', was " + quote(name));
      }
      Objects.requireNonNull(value, "value");
      once("environment " + name, environment.get(name));
      environment.put(name, value);
      return this;
    }

    /** Required: the file the child's output is appended to (its directory is created). */
    public Builder logFile(Path logFile) {
      once("logFile", this.logFile);
      Objects.requireNonNull(logFile, "logFile");
      if (Files.isDirectory(logFile)) {
        throw new IllegalArgumentException("logFile must not be a directory, was " + logFile);
      }
      this.logFile = logFile;
      return this;
    }

    /**
     * Reads the child's standard output line by line on a daemon thread of its own and hands each
     * line to {@code lines} (in order, on that thread); the output then does not go to the log
     * file.
     */
    public Builder onOutputLine(Consumer<String> lines) {
      once("onOutputLine", onOutputLine);
      this.onOutputLine = Objects.requireNonNull(lines, "lines");
      return this;
    }

    /**
     * The child is ready once a line of its standard output matches (tested after {@link
     * #onOutputLine}'s consumer has seen the line); its output is then read as lines.
     */
    public Builder readyWhenOutput(Predicate<String> line) {
      once("readyWhenOutput", readyLine);
      this.readyLine = Objects.requireNonNull(line, "line");
      return this;
    }

    /** The child is ready once {@code condition} holds (polled by {@link #awaitReady}). */
    public Builder readyWhen(BooleanSupplier condition) {
      once("readyWhen", readyWhen);
      this.readyWhen = Objects.requireNonNull(condition, "condition");
      return this;
    }

    /**
     * How long the child may take to exit after SIGTERM on {@link JvmProcess#close()} or when this
     * JVM shuts down, before it gets SIGKILL; default 10 s.
     */
    public Builder shutdownGrace(Duration grace) {
      once("shutdownGrace", shutdownGrace);
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative() || grace.isZero()) {
        throw new IllegalArgumentException("shutdownGrace must be positive, was " + grace);
      }
      this.shutdownGrace = grace;
      return this;
    }

    /**
     * Starts a child JVM; returns at once (see {@link JvmProcess#awaitReady}).
     *
     * @throws IllegalStateException if {@code logFile} is not set, or both {@code readyWhenOutput}
     *     and {@code readyWhen} are
     * @throws UncheckedIOException if the log file cannot be created or the JVM cannot be launched
     */
    public JvmProcess start() {
      if (logFile == null) {
        throw new IllegalStateException("logFile is required");
      }
      if (readyLine != null && readyWhen != null) {
        throw new IllegalStateException("readyWhenOutput and readyWhen cannot both be set");
      }
      String childName = name != null ? name : mainClass.substring(mainClass.lastIndexOf('.') + 1);
      Duration grace = shutdownGrace != null ? shutdownGrace : Duration.ofSeconds(10);
      var cmd = new ArrayList<String>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      if (maxHeapMegabytes != null) {
        cmd.add("-Xmx" + maxHeapMegabytes + "m");
      }
      cmd.addAll(QUICK_START);
      cmd.addAll(jvmOptions != null ? jvmOptions : List.of());
      systemProperties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
      cmd.add("-cp");
      cmd.add(classpath != null ? classpath : System.getProperty("java.class.path"));
      cmd.add(mainClass);
      cmd.addAll(args != null ? args : List.of());
      boolean readLines = onOutputLine != null || readyLine != null;
      var pb = new ProcessBuilder(cmd);
      pb.environment().putAll(environment);
      var log = ProcessBuilder.Redirect.appendTo(logFile.toFile());
      if (readLines) {
        pb.redirectError(log);
      } else {
        pb.redirectErrorStream(true).redirectOutput(log);
      }
      Process process;
      try {
        Path dir = logFile.toAbsolutePath().getParent();
        if (dir != null) {
          Files.createDirectories(dir);
        }
        process = pb.start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + childName + " (" + cmd.get(0) + ")", e);
      }
      var child = new JvmProcess(this, childName, grace, process);
      RUNNING.add(child);
      if (readLines) {
        Consumer<String> lines = onOutputLine;
        Thread reader = new Thread(() -> child.readOutput(lines), childName + "-output");
        reader.setDaemon(true);
        reader.start();
      } else {
        process.onExit().thenAccept(p -> child.exitedWith(p.exitValue()));
      }
      return child;
    }

    private static void once(String option, Object current) {
      if (current != null) {
        throw new IllegalStateException(option + " was already set to " + current);
      }
    }

    private static String quote(String s) {
      return s == null ? "null" : "'" + s + "'";
    }
  }
}
