package dev.handoff;

import java.util.Objects;

/**
 * One incarnation of a cluster member, as the membership layer sees it.
 *
 * @param id the member id the application chose (stable across restarts, e.g. a pod name)
 * @param epoch the incarnation's fencing epoch; it only grows, across restarts and re-registrations
 *     (for ZooKeeper membership it is the registration znode's {@code czxid})
 * @param host where the member runs, for humans
 * @param version the application version the member runs
 * @param state the lifecycle state the member announced
 */
public record Member(String id, long epoch, String host, String version, MemberState state) {
  public Member {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(state, "state");
  }

  /**
   * The writer identity of this incarnation in the {@code memberId#epoch} form the log carries:
   * unique per incarnation, never reused. {@link #writer()} is the same as a value.
   */
  public String writerId() {
    return id + "#" + epoch;
  }

  /** The writer identity of this incarnation as a value. */
  public WriterId writer() {
    return new WriterId(id, epoch);
  }

  public Member withState(MemberState newState) {
    return new Member(id, epoch, host, version, newState);
  }
}
