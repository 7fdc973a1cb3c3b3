package dev.handoff.testkit.cluster.history;

import java.util.List;
import java.util.Objects;

/**
 * A breach of the consistency contract found in a history.
 *
 * @param kind which promise was broken
 * @param key the session
 * @param detail one sentence saying what happened
 * @param ops the operations that show it (the broken one first)
 */
public record Anomaly(Kind kind, String key, String detail, List<Op> ops) {

  /** The kinds of breach the checker looks for. */
  public enum Kind {
    /** A stash completed ok, yet a pickup or read invoked after it returned something older. */
    LOST_WRITE,
    /** Two writers' ok stashes of one session diverged, or interleaved in real time. */
    TWO_OWNERS,
    /**
     * A stash completed ok after another writer's pickup of the session had completed, or after the
     * session had been ended.
     */
    ZOMBIE_WRITE,
    /** After healing, a live session is owned by a gone writer or by one that does not host it. */
    UNOWNED,
    /** A read returned a value no stash wrote, or one written by a stash that failed. */
    PHANTOM_READ,
    /** A session ended ok came back: a pickup or read invoked after the end found it. */
    RESURRECTED
  }

  public Anomaly {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(detail, "detail");
    ops = List.copyOf(ops);
  }

  /** The anomaly with its operations, one per line; times in ms since {@code origin}. */
  public String describe(long origin) {
    var b = new StringBuilder(kind + " " + key + ": " + detail);
    for (Op op : ops) {
      b.append("\n    ").append(op.describe(origin));
    }
    return b.toString();
  }
}
