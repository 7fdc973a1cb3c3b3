package dev.handoff.internal.crdt;

/**
 * A writer tried to write a session it does not own: another writer claimed a higher epoch, or won
 * the claim of the current one. The write was not made and must not be retried under this writer.
 */
public final class FencingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String session;
  private final String writer;
  private final String owner;
  private final long epoch;

  FencingException(String session, String writer, String owner, long epoch) {
    super(
        "writer '"
            + writer
            + "' does not own session '"
            + session
            + "': it is owned by '"
            + owner
            + "' at epoch "
            + epoch);
    this.session = session;
    this.writer = writer;
    this.owner = owner;
    this.epoch = epoch;
  }

  public String session() {
    return session;
  }

  public String writer() {
    return writer;
  }

  /** The writer that owns the session. */
  public String owner() {
    return owner;
  }

  /** The epoch the owner holds. */
  public long epoch() {
    return epoch;
  }
}
