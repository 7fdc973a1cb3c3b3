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

  /** For errors raised often and on purpose, whose stack trace would tell nothing. */
  HandoffException(String message, boolean stackTrace) {
    super(message, null, true, stackTrace);
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
   * The node cannot take this stash now; nothing was queued. Either it holds as many unsent and
   * unconfirmed state bytes as its budget allows ({@code maxPendingBytes}), or it holds a backlog
   * (1,024 writes or more) that would take more than a second to complete at the recent rate (at
   * most a quarter of the operation timeout), so that more queued would only wait longer, or its
   * owner thread is saturated (1,024 or more stashes wait for it, half that time, or it holds a
   * budget's worth it has not looked at yet). A stash of a session that already has a stash waiting
   * is not refused for the first two reasons: it replaces the waiting state. Retry later, or stash
   * less often. It carries no stack trace: under overload most stashes get one, and it must cost
   * little.
   */
  public static final class Overloaded extends HandoffException {
    private static final long serialVersionUID = 1L;

    public Overloaded(String message) {
      super(message, false);
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
