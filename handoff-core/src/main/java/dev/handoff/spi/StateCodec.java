package dev.handoff.spi;

/**
 * Turns application state into bytes and back. Implementations must be thread-safe.
 *
 * <p>During a rolling deploy old and new code run side by side, so a codec must read bytes written
 * by both older and newer versions of the application (for example Avro schema resolution).
 *
 * @param <T> the application's state type
 */
public interface StateCodec<T> {

  /** Encodes a state. Never returns null. */
  byte[] encode(T state);

  /**
   * Decodes bytes written by this or another version of the application.
   *
   * @throws StateCodecException if the bytes cannot be read (corrupt, or written with an unknown
   *     schema)
   */
  T decode(byte[] bytes);
}
