package dev.handoff.kafka;

/** A record the reader cannot decode; it is skipped, counted and logged once. */
class UndecodableRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UndecodableRecordException(String message) {
    super(message, null, false, false);
  }

  UndecodableRecordException(String message, Throwable cause) {
    super(message, cause, false, false);
  }
}
