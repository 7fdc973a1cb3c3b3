package dev.handoff.testkit.internal;

import java.io.IOException;

/**
 * Entry point of the JVM that {@code KafkaBrokerProcess} launches: runs {@code kafka.Kafka} and
 * halts as soon as its standard input closes, so a broker never outlives the test JVM that started
 * it (even if that JVM is killed). Not part of the testkit's API.
 */
public final class BrokerProcessMain {
  private BrokerProcessMain() {}

  /**
   * @param args the arguments of {@code kafka.Kafka}: the path of a server.properties file
   */
  public static void main(String[] args) throws Exception {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (System.in.read() != -1) {
                  // the parent never writes; wait for end of stream
                }
              } catch (IOException ignored) {
                // a broken pipe means the parent is gone, same as end of stream
              }
              Runtime.getRuntime().halt(3);
            },
            "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    kafka.Kafka.main(args);
  }
}
