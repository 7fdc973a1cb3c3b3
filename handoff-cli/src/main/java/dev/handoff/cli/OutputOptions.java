package dev.handoff.cli;

import picocli.CommandLine.Option;

/** {@code --output table|json}. */
final class OutputOptions {

  /** How a command prints its result. */
  enum Format {
    TABLE,
    JSON
  }

  @Option(
      names = {"-o", "--output"},
      paramLabel = "table|json",
      description = "Output format: table (for people, the default) or json (for scripts).",
      defaultValue = "table")
  Format format;

  boolean json() {
    return format == Format.JSON;
  }
}
