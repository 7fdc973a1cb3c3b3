package dev.handoff;

/** The lifecycle state a member announces to its peers. */
public enum MemberState {
  /** Registered, still replaying the log; not yet serving. */
  STARTING,
  /** Replayed and serving. */
  RUNNING,
  /** Stashing its sessions before it goes away; its sessions may be picked up. */
  LEAVING
}
