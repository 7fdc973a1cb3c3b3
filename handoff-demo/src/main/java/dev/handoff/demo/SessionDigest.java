package dev.handoff.demo;

import java.util.Locale;

/**
 * A fingerprint of a set of sessions and their ticks: how many, the sum of their ticks, and an
 * order-independent hash of their ids. A node logs one over its final stashes when it stops and its
 * replacement logs one over the states it picked up; equal fingerprints say (without the
 * orchestrator's per-session ledger) that the replacement resumed the same sessions at the very
 * ticks they were stashed at: a lost or stale session changes the count or lowers the sum, since a
 * pickup never sees a tick later than the final stash. Thread-safe.
 */
final class SessionDigest {
  private int sessions;
  private long tickSum;
  private long keyHash;

  /** Adds one session at {@code tick}. */
  synchronized void add(String session, long tick) {
    sessions++;
    tickSum += tick;
    keyHash += mix(session.hashCode());
  }

  /** How many sessions were added. */
  synchronized int sessions() {
    return sessions;
  }

  /** {@code sessions=N tickSum=T keyHash=H}, the form the compose demo compares. */
  @Override
  public synchronized String toString() {
    return String.format(
        Locale.ROOT, "sessions=%d tickSum=%d keyHash=%016x", sessions, tickSum, keyHash);
  }

  /**
   * A 64-bit finaliser (from SplitMix64), so that the sum of hashes of distinct ids rarely
   * collides.
   */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
