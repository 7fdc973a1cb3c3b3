package dev.handoff.spi;

/** Bytes that a {@link StateCodec} cannot read: corrupt, truncated or of an unknown schema. */
public class StateCodecException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StateCodecException(String message) {
    super(message);
  }

  public StateCodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
