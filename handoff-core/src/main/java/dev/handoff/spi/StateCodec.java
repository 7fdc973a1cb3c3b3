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

  /** A codec for plain strings as UTF-8: handy in tests and for states that are already text. */
  static StateCodec<String> utf8() {
    return new StateCodec<>() {
      @Override
      public byte[] encode(String state) {
        return state.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
      }

      @Override
      public String toString() {
        return "StateCodec.utf8()";
      }
    };
  }
}
