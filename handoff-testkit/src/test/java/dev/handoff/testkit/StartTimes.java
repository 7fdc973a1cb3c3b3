package dev.handoff.testkit;

import java.util.function.Supplier;

/** Measures how long a fixture takes to start and prints it to the test log. */
final class StartTimes {
  private StartTimes() {}

  static <T> T timed(String fixture, Supplier<T> start) {
    long t0 = System.nanoTime();
    T value = start.get();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("FIXTURE-START %-28s %6d ms%n", fixture, ms);
    return value;
  }
}
