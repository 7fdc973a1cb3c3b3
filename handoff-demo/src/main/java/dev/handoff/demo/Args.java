package dev.handoff.demo;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Command-line options {@code --name value}, {@code --name=value} and {@code --flag}. */
final class Args {
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  private Args() {}

  /**
   * Parses {@code argv}.
   *
   * @throws IllegalArgumentException naming the option, for an unknown option or a missing value
   */
  static Args parse(String[] argv, Set<String> valueOptions, Set<String> flagOptions) {
    var args = new Args();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException(
            "unexpected argument '" + a + "' (options start with --)");
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flagOptions.contains(name)) {
        if (value != null) {
          throw new IllegalArgumentException("option --" + name + " takes no value");
        }
        args.flags.add(name);
      } else if (valueOptions.contains(name)) {
        if (value == null) {
          if (i + 1 >= argv.length) {
            throw new IllegalArgumentException("option --" + name + " needs a value");
          }
          value = argv[++i];
        }
        args.values.put(name, value);
      } else {
        throw new IllegalArgumentException("unknown option --" + name + " (try --help)");
      }
    }
    return args;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  String require(String name) {
    String v = values.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("option --" + name + " is required");
    }
    return v;
  }

  int intValue(String name, int fallback, int min, int max) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    int n;
    try {
      n = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option --" + name + " must be a number, was '" + v + "'");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(
          "option --" + name + " must be between " + min + " and " + max + ", was " + n);
    }
    return n;
  }
}
