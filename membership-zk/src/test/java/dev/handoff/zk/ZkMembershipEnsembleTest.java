package dev.handoff.zk;

import static dev.handoff.zk.Recorder.anyDown;
import static dev.handoff.zk.Recorder.changedTo;
import static dev.handoff.zk.Recorder.connection;
import static dev.handoff.zk.Recorder.down;
import static dev.handoff.zk.Recorder.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.Member;
import dev.handoff.MemberEvent.ConnectionState;
import dev.handoff.MemberEvent.DownReason;
import dev.handoff.MemberState;
import dev.handoff.testkit.EmbeddedZooKeeper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ZkMembership against a real 3-server ZooKeeper ensemble that loses servers. */
class ZkMembershipEnsembleTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private static EmbeddedZooKeeper zk;
  private final Members members = new Members();
  private final String group = "g-" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void startEnsemble() {
    zk = EmbeddedZooKeeper.startEnsemble(3);
  }

  @AfterAll
  static void stopEnsemble() {
    if (zk != null) {
      zk.close();
    }
  }

  @AfterEach
  void closeMembers() {
    members.close();
    for (int i = 0; i < zk.servers(); i++) {
      if (!zk.isRunning(i)) {
        zk.restartServer(i);
      }
    }
  }

  private static Recorder recorded(ZkMembership m) {
    var r = new Recorder();
    m.subscribe(r);
    return r;
  }

  private static Member started(ZkMembership m) {
    return m.start().orTimeout(20, TimeUnit.SECONDS).join();
  }

  @Test
  void losingTheServerAMemberIsConnectedToKeepsItsIncarnation() throws Exception {
    var a =
        members.create(
            zk.connectString(), group, "a", b -> b.sessionTimeout(Duration.ofSeconds(6)));
    var b =
        members.create(
            zk.connectString(), group, "b", x -> x.sessionTimeout(Duration.ofSeconds(6)));
    var ra = recorded(a);
    var rb = recorded(b);
    var selfA = started(a);
    var selfB = started(b);
    await().atMost(WAIT).until(() -> ra.has(up(selfB)) && rb.has(up(selfA)));

    int server = zk.serverIndexOf(a.curator().getZookeeperClient().getZooKeeper());
    assertThat(server).isNotNegative();
    zk.stopServer(server);

    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.SUSPENDED)));
    await().atMost(WAIT).until(() -> ra.has(connection(ConnectionState.RECONNECTED)));
    int now = zk.serverIndexOf(a.curator().getZookeeperClient().getZooKeeper());
    assertThat(now).isNotEqualTo(server).isNotNegative();
    assertThat(a.self()).isEqualTo(selfA);
    assertThat(a.writable()).isTrue();

    // Watches survived the move: a still sees b change.
    b.announce(MemberState.RUNNING).orTimeout(15, TimeUnit.SECONDS).join();
    await().atMost(WAIT).until(() -> ra.has(changedTo(selfB, MemberState.RUNNING)));
    assertThat(ra.has(anyDown())).isFalse();
    assertThat(rb.has(anyDown())).isFalse();
    assertThat(ra.has(connection(ConnectionState.LOST))).isFalse();
    assertThat(a.members()).containsExactly(selfA, selfB.withState(MemberState.RUNNING));
  }

  @Test
  void aMemberBouncingWhileAWatcherIsDisconnectedIsReportedDownThenUp() {
    // The watcher talks to one follower only, so stopping that server cuts it off while the rest
    // of the ensemble (and the bouncing member) keeps working.
    int cut = followerIndex();
    var others =
        IntStream.range(0, zk.servers())
            .filter(i -> i != cut)
            .mapToObj(i -> "127.0.0.1:" + zk.clientPort(i))
            .reduce((x, y) -> x + "," + y)
            .orElseThrow();
    var watcher =
        members.create(
            "127.0.0.1:" + zk.clientPort(cut),
            group,
            "watcher",
            // Curator would otherwise learn the other servers from /zookeeper/config and move.
            x -> x.sessionTimeout(Duration.ofSeconds(15)).trackEnsemble(false));
    var peer = members.create(others, group, "peer");
    var bouncer = members.create(others, group, "bouncer");
    var rw = recorded(watcher);
    var rp = recorded(peer);
    started(watcher);
    started(peer);
    var first = started(bouncer);
    await().atMost(WAIT).until(() -> rw.has(up(first)) && rp.has(up(first)));

    zk.stopServer(cut);
    await().atMost(WAIT).until(() -> rw.has(connection(ConnectionState.SUSPENDED)));

    bouncer.leave().orTimeout(15, TimeUnit.SECONDS).join();
    bouncer.close();
    var again = members.create(others, group, "bouncer");
    var second = started(again);
    await().atMost(WAIT).until(() -> rp.has(down(first, DownReason.LEFT)) && rp.has(up(second)));
    assertThat(rw.has(down(first))).as("the watcher cannot know yet").isFalse();

    zk.restartServer(cut);
    await().atMost(WAIT).until(() -> rw.has(connection(ConnectionState.RECONNECTED)));
    await().atMost(WAIT).until(() -> rw.has(down(first)) && rw.has(up(second)));

    assertThat(second.epoch()).isGreaterThan(first.epoch());
    assertThat(rw.has(down(first, DownReason.UNKNOWN))).isTrue();
    assertThat(rw.indexOf(down(first))).isLessThan(rw.indexOf(up(second)));
    assertThat(rw.has(connection(ConnectionState.LOST))).isFalse();
    assertThat(watcher.members())
        .extracting(Member::writerId)
        .containsExactlyInAnyOrder(
            watcher.self().writerId(), peer.self().writerId(), second.writerId());
  }

  private static int followerIndex() {
    for (int i = 0; i < zk.servers(); i++) {
      if (srvr(zk.clientPort(i)).contains("Mode: follower")) {
        return i;
      }
    }
    throw new AssertionError("no follower in the ensemble");
  }

  private static String srvr(int port) {
    try (var socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      socket.setSoTimeout(2000);
      socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
