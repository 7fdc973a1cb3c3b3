package dev.handoff.cli;

import dev.handoff.kafka.KafkaDeltaLogException;
import dev.handoff.kafka.TopicCheck;
import java.util.concurrent.Callable;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code topic}: commands about the delta log's topic itself. */
@Command(
    name = "topic",
    mixinStandardHelpOptions = true,
    description = "Commands about the delta log's topic.",
    subcommands = {TopicCommand.Check.class})
final class TopicCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command: check");
  }

  /** {@code topic check}: the topic's config against what Handoff requires. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Checks the topic's configuration against what the Handoff delta log requires. Errors are"
            + " what KafkaDeltaLog.start() refuses, with the same message; warnings are settings"
            + " that weaken a guarantee. Exit code 1 if there is an error."
      })
  static final class Check implements Callable<Integer> {

    @Mixin KafkaOptions kafka;
    @Mixin OutputOptions output;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      TopicCheck.Report report;
      try (var admin = kafka.admin()) {
        report = TopicCheck.check(admin, kafka.topic, kafka.timeout);
      } catch (KafkaDeltaLogException e) {
        if (e.getCause() instanceof UnknownTopicOrPartitionException) {
          throw new CliException(
              HandoffCli.NOT_FOUND,
              "Topic '"
                  + kafka.topic
                  + "' does not exist (a KafkaDeltaLog creates it compacted on start)",
              e);
        }
        throw e;
      }
      var out = spec.commandLine().getOut();
      if (output.json()) {
        var node =
            Json.object()
                .put("topic", report.topic())
                .put("partitions", report.partitions())
                .put("replicationFactor", report.replicationFactor())
                .put("cleanupPolicy", report.configs().get("cleanup.policy"))
                .put("maxStateBytes", report.maxStateBytes())
                .put("ok", !report.hasErrors());
        var findings = node.putArray("findings");
        for (var f : report.findings()) {
          findings
              .addObject()
              .put("severity", f.severity().name())
              .put("setting", f.setting())
              .put("message", f.message());
        }
        Json.print(out, node);
      } else {
        out.printf(
            "topic '%s': %d partitions, replication factor %d, cleanup.policy=%s,"
                + " largest state %d bytes%n",
            report.topic(),
            report.partitions(),
            report.replicationFactor(),
            report.configs().get("cleanup.policy"),
            report.maxStateBytes());
        for (var f : report.findings()) {
          out.println(f.severity() + " " + f.setting() + ": " + f.message());
        }
        long errors =
            report.findings().stream()
                .filter(f -> f.severity() == TopicCheck.Severity.ERROR)
                .count();
        long warnings = report.findings().size() - errors;
        out.println(
            errors == 0
                ? "OK: Handoff can use this topic (" + warnings + " warning(s))"
                : "FAILED: Handoff refuses this topic ("
                    + errors
                    + " error(s), "
                    + warnings
                    + " warning(s))");
      }
      return report.hasErrors() ? HandoffCli.CHECK_FAILED : HandoffCli.OK;
    }
  }
}
