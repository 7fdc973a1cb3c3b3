package dev.handoff.zk;

import dev.handoff.MemberEvent.ConnectionChanged;
import dev.handoff.MemberEvent.ConnectionState;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a member does when Curator reports a change of its connection: {@code SUSPENDED} keeps the
 * registration (the session may still live); {@code CONNECTED}/{@code RECONNECTED} reads the group
 * again and registers if not registered; {@code LOST} (the session expired, or was disconnected
 * longer than the session timeout) stops writes until a new znode is registered. Each change is
 * reported as a {@code ConnectionChanged} once this member has registered for the first time.
 * Called on Curator's thread; the work runs on the loop thread.
 */
final class ConnectionStates implements ConnectionStateListener {

  private static final Logger log = LoggerFactory.getLogger(ConnectionStates.class);

  private final String memberId;
  private final MembershipLoop loop;
  private final MemberEvents events;
  private final GroupWatcher group;
  private final Registration registration;

  ConnectionStates(
      String memberId,
      MembershipLoop loop,
      MemberEvents events,
      GroupWatcher group,
      Registration registration) {
    this.memberId = memberId;
    this.loop = loop;
    this.events = events;
    this.group = group;
    this.registration = registration;
  }

  @Override
  public void stateChanged(
      CuratorFramework client, org.apache.curator.framework.state.ConnectionState state) {
    loop.run(() -> onStateChanged(client, state));
  }

  private void onStateChanged(
      CuratorFramework client, org.apache.curator.framework.state.ConnectionState state) {
    switch (state) {
      case CONNECTED, RECONNECTED -> onConnected(client, state);
      case SUSPENDED -> {
        group.resyncUntilConnected();
        report(ConnectionState.SUSPENDED);
      }
      case LOST -> onSessionLost();
      case READ_ONLY -> log.debug("Member '{}' connection is read-only", memberId);
    }
  }

  private void onConnected(
      CuratorFramework client, org.apache.curator.framework.state.ConnectionState state) {
    if (registration.registeredOnAnotherSession(Registration.sessionIdOf(client))) {
      // A new session without a LOST event first: the old registration is just as dead.
      onSessionLost();
    }
    report(
        state == org.apache.curator.framework.state.ConnectionState.CONNECTED
            ? ConnectionState.CONNECTED
            : ConnectionState.RECONNECTED);
    group.resyncNow();
    registration.register();
  }

  private void onSessionLost() {
    registration.sessionLost();
    group.resyncUntilConnected();
    report(ConnectionState.LOST);
  }

  private void report(ConnectionState state) {
    // SUPERSEDED is final: nothing about the connection matters to listeners after it.
    if (registration.everRegistered() && !registration.superseded()) {
      events.publish(new ConnectionChanged(state, registration.self()));
    }
  }
}
