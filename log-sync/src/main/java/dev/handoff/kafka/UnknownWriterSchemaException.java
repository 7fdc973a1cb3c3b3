package dev.handoff.kafka;

/** A value written with a writer schema this node does not know (yet). */
final class UnknownWriterSchemaException extends UndecodableRecordException {
  private static final long serialVersionUID = 1L;

  private final long fingerprint;

  UnknownWriterSchemaException(long fingerprint) {
    super(String.format("unknown writer schema fingerprint %016x", fingerprint));
    this.fingerprint = fingerprint;
  }

  long fingerprint() {
    return fingerprint;
  }
}
