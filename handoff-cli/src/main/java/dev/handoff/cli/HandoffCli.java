package dev.handoff.cli;

import dev.handoff.kafka.KafkaDeltaLogException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code handoff}: a read-only operator tool for a Handoff cluster. It reads ZooKeeper (who is up)
 * and the delta log's Kafka topic (what is stored) and changes nothing.
 */
@Command(
    name = "handoff",
    mixinStandardHelpOptions = true,
    versionProvider = HandoffCli.Version.class,
    description = {
      "Read-only operator tool for Handoff: members from ZooKeeper; sessions, one session's"
          + " state, the topic's config and compaction statistics from the Kafka topic."
    },
    footer = {
      "",
      "Read-only: no command writes to Kafka or ZooKeeper, joins a consumer group or commits"
          + " offsets."
    },
    subcommands = {
      MembersCommand.class,
      SessionsCommand.class,
      ShowCommand.class,
      TopicCommand.class,
      StatsCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:topic check found an error (Handoff would refuse the topic)",
      "2:invalid command line",
      "3:Kafka or ZooKeeper could not be read (unreachable, timed out, not authorized)",
      "4:not found (the topic, or the session of 'show')",
      "5:any other failure (the message says what)"
    })
public final class HandoffCli implements Runnable {

  static final int OK = 0;
  static final int CHECK_FAILED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;
  static final int NOT_FOUND = 4;
  static final int FAILED = 5;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the tool and exits with its exit code. */
  public static void main(String[] args) {
    var out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    var err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    System.exit(execute(out, err, args));
  }

  /** Runs one command line, printing to {@code out} and {@code err}; returns the exit code. */
  static int execute(PrintWriter out, PrintWriter err, String... args) {
    var cli = new CommandLine(new HandoffCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExitCodeExceptionMapper(HandoffCli::exitCodeOf);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("handoff: " + messageOf(e));
          commandLine.getErr().flush();
          return exitCodeOf(e);
        });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command");
  }

  private static int exitCodeOf(Throwable e) {
    if (e instanceof CliException c) {
      return c.exitCode();
    }
    if (e instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (e instanceof KafkaDeltaLogException) {
      return e.getCause() instanceof UnknownTopicOrPartitionException ? NOT_FOUND : UNREACHABLE;
    }
    return FAILED;
  }

  private static String messageOf(Throwable e) {
    if (e instanceof CliException || e instanceof KafkaDeltaLogException) {
      return e.getMessage();
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /** The version from the jar's manifest (the project version), or "development" in the IDE. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = HandoffCli.class.getPackage().getImplementationVersion();
      return new String[] {"handoff-cli " + (v == null ? "development" : v)};
    }
  }
}
