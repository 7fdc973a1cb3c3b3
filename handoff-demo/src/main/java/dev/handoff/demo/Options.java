package dev.handoff.demo;

import picocli.CommandLine;

/** Parses an annotated options object with picocli, with the demo's errors and range checks. */
final class Options {
  private Options() {}

  /** The usage text picocli prints for {@code options}, without colours. */
  static String usage(Object options) {
    return new CommandLine(options).getUsageMessage(CommandLine.Help.Ansi.OFF);
  }

  /**
   * Fills {@code options} from {@code argv}.
   *
   * @throws IllegalArgumentException naming the option, for an unknown option, a missing or
   *     malformed value
   * @throws NodeSettings.HelpRequested for {@code --help}
   */
  static <T> T parse(T options, String usage, String... argv) {
    var cli = new CommandLine(options);
    try {
      cli.parseArgs(argv);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (cli.isUsageHelpRequested()) {
      throw new NodeSettings.HelpRequested(usage);
    }
    return options;
  }

  /** {@code value} if it is within {@code [min, max]}; else the error names option {@code name}. */
  static int range(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          "option --" + name + " must be between " + min + " and " + max + ", was " + value);
    }
    return value;
  }
}
