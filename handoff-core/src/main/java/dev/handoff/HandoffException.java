package dev.handoff;

/** Base of every error {@link StateHandoff} reports. The message says what to do about it. */
public class HandoffException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public HandoffException(String message) {
    super(message);
  }

  public HandoffException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The node is not ready: {@code start()} has not completed (still replaying the log). */
  public static final class NotReady extends HandoffException {
    private static final long serialVersionUID = 1L;

    public NotReady(String message) {
      super(message);
    }
  }

  /** The node has left (or is leaving) the cluster and refuses new writes. */
  public static final class Left extends HandoffException {
    private static final long serialVersionUID = 1L;

    public Left(String message) {
      super(message);
    }
  }

  /**
   * This node is not (or no longer) the owner of the session: another node picked it up under a
   * higher epoch, or this node's membership was lost. The write was not applied.
   */
  public static final class Fenced extends HandoffException {
    private static final long serialVersionUID = 1L;

    public Fenced(String message) {
      super(message);
    }
  }

  /** A pickup lost: another node owns the session (it won the race, or it is running it). */
  public static final class OwnedElsewhere extends HandoffException {
    private static final long serialVersionUID = 1L;
    private final WriterId owner;

    public OwnedElsewhere(String message, WriterId owner) {
      super(message);
      this.owner = owner;
    }

    /** The writer that owns the session now; null if the session reads as nobody's. */
    public WriterId owner() {
      return owner;
    }
  }

  /** The encoded state is larger than the log accepts; nothing was sent. */
  public static final class TooLarge extends HandoffException {
    private static final long serialVersionUID = 1L;

    public TooLarge(String message) {
      super(message);
    }
  }

  /**
   * The node holds as many unsent and unconfirmed state bytes as its budget allows ({@code
   * maxPendingBytes}); nothing was queued. A stash of a session that already has a stash waiting is
   * never refused: it replaces the waiting state. Retry later, or stash less often.
   */
  public static final class Overloaded extends HandoffException {
    private static final long serialVersionUID = 1L;

    public Overloaded(String message) {
      super(message);
    }
  }

  /** An operation did not complete within its timeout. Its outcome is unknown. */
  public static final class Timeout extends HandoffException {
    private static final long serialVersionUID = 1L;

    public Timeout(String message) {
      super(message);
    }
  }
}
