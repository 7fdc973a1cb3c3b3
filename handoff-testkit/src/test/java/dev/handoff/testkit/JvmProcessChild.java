package dev.handoff.testkit;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child JVM of {@link JvmProcessTest}. Arguments: {@code fail} (write to stderr and exit 3),
 * {@code marker <path>} (create the file once started), {@code ignore-sigterm} (a shutdown hook
 * that never ends). Then it prints its test property and variable and {@code READY}, and answers
 * {@code echo <text>} on stdout and {@code err <text>} on stderr until its input ends. Its shutdown
 * hook prints {@code BYE}.
 */
public final class JvmProcessChild {
  private JvmProcessChild() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("fail")) {
      System.err.println("boom: asked to fail");
      System.exit(3);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("BYE")));
    if (args.length > 0 && args[0].equals("ignore-sigterm")) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    while (true) {
                      Thread.onSpinWait();
                    }
                  }));
    }
    if (args.length > 1 && args[0].equals("marker")) {
      Files.createFile(Path.of(args[1]));
    }
    System.out.println("prop=" + System.getProperty("jvmprocess.test"));
    System.out.println("env=" + System.getenv("JVMPROCESS_TEST"));
    System.out.println("READY");
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.startsWith("echo ")) {
        System.out.println(line.substring(5));
      } else if (line.startsWith("err ")) {
        System.err.println(line.substring(4));
      }
    }
  }
}
