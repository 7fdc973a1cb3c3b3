package dev.handoff.demo;

/** One node incarnation as the {@link Ledger} sees it: a JVM running a member id at a version. */
interface Incarnation {
  /** The member id, shared by a node and its replacement. */
  String memberId();

  /** {@code v1} or {@code v2}. */
  String version();

  /** The writer id ({@code memberId#epoch}) once known. */
  String writerId();

  /** {@code SIGTERM}, {@code SIGKILL}, or null if it was never signalled. */
  String signal();

  /** When it was signalled (epoch micros), 0 if never. */
  long signalledMicros();

  /** Milliseconds from launch to ready, 0 if unknown. */
  long startMillis();

  /** When it was ready (epoch micros), 0 if unknown. */
  default long readyMicros() {
    return 0;
  }
}
