package dev.handoff.kafka;

import java.time.Duration;

/**
 * How far the start-up replay has got, reported every few seconds and once when it is done.
 *
 * @param topic the log's topic
 * @param records records read so far (data and reserved records, skipped ones included)
 * @param bytes key and value bytes read so far
 * @param percent the share, from 0 to 100, of the offsets between the beginning offsets and the end
 *     offsets read at start that the reader's position has passed
 * @param elapsed time since the replay began
 * @param done true in the one report made when the reader reached the end offsets
 */
public record ReplayProgress(
    String topic, long records, long bytes, double percent, Duration elapsed, boolean done) {

  /** Records per second so far. */
  public double recordsPerSecond() {
    return records / Math.max(1e-9, elapsed.toNanos() / 1e9);
  }

  /** Megabytes (10^6 bytes) per second so far. */
  public double megabytesPerSecond() {
    return bytes / 1e6 / Math.max(1e-9, elapsed.toNanos() / 1e9);
  }
}
