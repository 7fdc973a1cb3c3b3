package dev.handoff.kafka;

/**
 * A {@link KafkaDeltaLog} operation failed: the topic is misconfigured or unreachable, an append
 * was not acknowledged, the reader stopped on an unrecoverable error, or the log was closed. The
 * message names the topic and, where there is one, the session and the setting at fault.
 */
public class KafkaDeltaLogException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KafkaDeltaLogException(String message) {
    super(message);
  }

  public KafkaDeltaLogException(String message, Throwable cause) {
    super(message, cause);
  }
}
