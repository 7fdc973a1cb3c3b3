package dev.handoff;

/**
 * What the membership layer reports, in order, to its listeners: the Java counterpart of {@code
 * :net_kernel.monitor_nodes} ({@code nodeup}/{@code nodedown}).
 */
public sealed interface MemberEvent
    permits MemberEvent.MemberUp,
        MemberEvent.MemberDown,
        MemberEvent.MemberChanged,
        MemberEvent.ConnectionChanged {

  /** A member incarnation joined the cluster (or was first seen). */
  record MemberUp(Member member) implements MemberEvent {}

  /** A member incarnation went away. */
  record MemberDown(Member member, DownReason reason) implements MemberEvent {}

  /** A member announced a new state or metadata (same incarnation). */
  record MemberChanged(Member before, Member after) implements MemberEvent {}

  /**
   * This node's own connection to the membership service changed. While {@link
   * ConnectionState#LOST} the node must not write; it is writable again after {@link
   * ConnectionState#REREGISTERED}, under the new epoch in {@code self}. After {@link
   * ConnectionState#SUPERSEDED} it must never write again.
   */
  record ConnectionChanged(ConnectionState state, Member self) implements MemberEvent {}

  /** Why a member went down. */
  enum DownReason {
    /** It left gracefully: announced LEAVING and removed its registration. */
    LEFT,
    /** Its session expired (crash, pause or partition past the session timeout). */
    EXPIRED,
    /**
     * It disappeared and the cause cannot be told (for example, while this node was disconnected).
     */
    UNKNOWN
  }

  /** The states of this node's own membership connection. */
  enum ConnectionState {
    CONNECTED,
    SUSPENDED,
    RECONNECTED,
    LOST,
    /** Registered again after a LOST, as a new incarnation with a higher epoch. */
    REREGISTERED,
    /**
     * A newer incarnation of this member id registered: another live process with the same id,
     * started after this one (this process is a replaced pod that still runs, or the member id is
     * not unique). This incarnation must stop writing for good: it is no longer {@linkplain
     * dev.handoff.spi.Membership#writable() writable}, removes its registration (peers see it go
     * down) and never registers again. Final: no later event makes it writable.
     */
    SUPERSEDED
  }
}
