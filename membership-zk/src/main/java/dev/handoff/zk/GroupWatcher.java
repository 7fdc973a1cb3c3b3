package dev.handoff.zk;

import dev.handoff.Member;
import dev.handoff.MemberEvent;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the group's members znode: reads its children and each child's data (with one-shot
 * watches, set again on every read), feeds what it reads into the {@link GroupView}, and publishes
 * the {@code MemberUp}/{@code MemberDown}/{@code MemberChanged} events that follow. Confined to the
 * loop thread, except {@link #members()}.
 *
 * <p>Reads that fail on connection trouble are tried again after 200 ms while connected; a
 * reconnect reads everything again anyway.
 */
final class GroupWatcher {

  private static final Logger log = LoggerFactory.getLogger(GroupWatcher.class);
  private static final long READ_AGAIN_MILLIS = 200;

  /** Told after each completed read, on the loop thread (this node's own registration). */
  interface Reads {
    /** A children list, asked for by {@link #refresh()} call number {@code request}, was read. */
    void listRead(int request, List<String> children);

    /** The data of one member znode was read (or found gone). */
    void memberRead();
  }

  private final CuratorFramework client;
  private final String membersPath;
  private final MembershipLoop loop;
  private final MemberEvents events;
  private final CuratorWatcher watcher = this::onWatchedEvent;
  private final GroupView view = new GroupView();
  private Reads reads;

  // Read from any thread, written on the loop thread.
  private volatile List<Member> members = List.of();

  // Confined to the loop thread.
  private int childrenRequests;
  private int resyncEndsWithRequest = Integer.MAX_VALUE;
  private int lastChildrenRead;

  GroupWatcher(
      CuratorFramework client, String membersPath, MembershipLoop loop, MemberEvents events) {
    this.client = client;
    this.membersPath = membersPath;
    this.loop = loop;
    this.events = events;
  }

  /** Sets who is told about completed reads; once, before the member starts. */
  void afterEachRead(Reads reads) {
    this.reads = reads;
  }

  /** The live members as last published; any thread. */
  List<Member> members() {
    return members;
  }

  /** The live members as the loop sees them now. */
  List<Member> currentMembers() {
    return view.members();
  }

  /** The live incarnations of member id {@code id} as the loop sees them now. */
  List<GroupView.Incarnation> incarnationsOf(String id) {
    return view.incarnationsOf(id);
  }

  /** The connection is down: members found missing from now on may have gone unseen. */
  void resyncUntilConnected() {
    view.beginResync();
    resyncEndsWithRequest = Integer.MAX_VALUE;
  }

  /** Connected (again): reads the group afresh; the resync ends with that read. */
  void resyncNow() {
    view.beginResync();
    resyncEndsWithRequest = refresh();
  }

  boolean resyncing() {
    return view.resyncing();
  }

  /** The znode {@code name} belonged to a session of this node that has expired. */
  void markExpired(String name) {
    view.markExpired(name);
  }

  /** True once the list of read number {@code request} (or a later one) and every znode is read. */
  boolean fullyRead(int request) {
    return lastChildrenRead >= request && view.allRead();
  }

  /** Reads the children of the group (with a watch); returns the request number. */
  int refresh() {
    int request = ++childrenRequests;
    try {
      client
          .getChildren()
          .usingWatcher(watcher)
          .inBackground((c, e) -> onChildren(request, e), loop.executor())
          .forPath(membersPath);
    } catch (Exception e) {
      log.warn("Could not read the members of {}", membersPath, e);
    }
    return request;
  }

  private void onChildren(int request, CuratorEvent e) {
    var code = Code.get(e.getResultCode());
    List<String> children;
    if (code == Code.OK) {
      children = e.getChildren();
    } else if (code == Code.NONODE) {
      // The group does not exist (yet): nobody is a member; watch for it to appear.
      children = List.of();
      watchGroupCreation();
    } else {
      log.debug("Reading members of {} failed ({}); will read again", membersPath, code);
      if (connected()) {
        loop.schedule(this::refreshIfConnected, READ_AGAIN_MILLIS);
      }
      return;
    }
    var out = new ArrayList<MemberEvent>();
    for (var name : view.onChildren(children, out)) {
      readMember(name);
    }
    lastChildrenRead = Math.max(lastChildrenRead, request);
    if (view.resyncing() && request >= resyncEndsWithRequest) {
      view.endResync();
    }
    publish(out);
    reads.listRead(request, children);
  }

  private void refreshIfConnected() {
    if (connected()) {
      refresh();
    }
  }

  private void watchGroupCreation() {
    try {
      client.checkExists().usingWatcher(watcher).inBackground().forPath(membersPath);
    } catch (Exception e) {
      log.warn("Could not watch {}", membersPath, e);
    }
  }

  private void readMember(String name) {
    try {
      client
          .getData()
          .usingWatcher(watcher)
          .inBackground((c, e) -> onMemberData(name, e), loop.executor())
          .forPath(membersPath + "/" + name);
    } catch (Exception e) {
      log.warn("Could not read member znode {}", name, e);
    }
  }

  private void onMemberData(String name, CuratorEvent e) {
    var code = Code.get(e.getResultCode());
    var out = new ArrayList<MemberEvent>();
    if (code == Code.OK) {
      var czxid = e.getStat().getCzxid();
      var payload = MemberData.read(e.getData(), czxid).orElse(null);
      if (payload == null) {
        log.warn("Ignoring znode {}/{}: not a member registration", membersPath, name);
        view.onData(name, czxid, null, out);
      } else {
        view.onData(name, czxid, payload.member(), payload.since(), out);
      }
    } else if (code == Code.NONODE) {
      view.onGone(name, out);
    } else {
      // Connection trouble: read again soon if still connected; a reconnect re-reads everything.
      log.debug("Reading member znode {} failed ({})", name, code);
      loop.schedule(
          () -> {
            if (view.contains(name) && connected()) {
              readMember(name);
            }
          },
          READ_AGAIN_MILLIS);
      return;
    }
    publish(out);
    reads.memberRead();
  }

  private void onWatchedEvent(WatchedEvent event) {
    loop.run(
        () -> {
          var path = event.getPath();
          if (path == null) {
            return; // connection events: handled by ConnectionStates
          }
          if (path.equals(membersPath)) {
            refresh();
            return;
          }
          var name = path.substring(path.lastIndexOf('/') + 1);
          if (event.getType() == EventType.NodeDataChanged) {
            if (view.onDataChanged(name)) {
              readMember(name);
            }
          } else if (event.getType() == EventType.NodeDeleted) {
            var out = new ArrayList<MemberEvent>();
            view.onGone(name, out);
            publish(out);
          }
        });
  }

  private void publish(List<MemberEvent> batch) {
    members = view.members();
    events.publish(batch);
  }

  private boolean connected() {
    return client.getZookeeperClient().isConnected();
  }
}
