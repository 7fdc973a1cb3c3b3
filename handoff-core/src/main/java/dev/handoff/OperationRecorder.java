package dev.handoff;

/**
 * Hears how long each {@link StateHandoff#stash stash}, {@link StateHandoff#pickup pickup}, {@link
 * StateHandoff#end end} and {@link StateHandoff#read read} took and how it ended, for metrics (see
 * the {@code handoff-micrometer} module). Set with {@link StateHandoffBuilder#operationRecorder}.
 *
 * <p>Called once per operation when its future completes, on the thread that completes it (the
 * callback executor), so it must be fast and thread-safe; what it throws is logged and ignored.
 * Operations refused before they start (a null or empty key) are not recorded.
 */
@FunctionalInterface
public interface OperationRecorder {

  /** The recorded operations. */
  enum Operation {
    /** {@link StateHandoff#stash}. */
    STASH,
    /** {@link StateHandoff#pickup}. */
    PICKUP,
    /** {@link StateHandoff#end}. */
    END,
    /** {@link StateHandoff#read}. */
    READ
  }

  /** Records nothing: the default. */
  OperationRecorder NONE = (operation, nanos, failure) -> {};

  /**
   * One operation completed.
   *
   * @param operation which one
   * @param nanos from the call to the completion of its future
   * @param failure null if it succeeded, else what its future failed with (a {@link
   *     HandoffException} subclass, say, {@link HandoffException.Fenced}), unwrapped from any
   *     {@link java.util.concurrent.CompletionException}
   */
  void record(Operation operation, long nanos, Throwable failure);
}
