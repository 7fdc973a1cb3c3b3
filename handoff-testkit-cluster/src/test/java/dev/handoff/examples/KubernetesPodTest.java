package dev.handoff.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.handoff.HandoverTarget;
import dev.handoff.MemberState;
import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.HandoffTest;
import java.time.Duration;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/**
 * The README's Kubernetes wiring, run for real in one JVM: a v1 pod drains into a v2 pod (what its
 * SIGTERM hook does with a surge pod running), and a pod restarted under its name adopts what its
 * earlier incarnation stashed.
 */
@HandoffTest
class KubernetesPodTest {

  static GenericRecord state(String session, long tick) {
    GenericRecord s = new GenericData.Record(Quickstart.GAME_STATE);
    s.put("session", session);
    s.put("tick", tick);
    return s;
  }

  @Test
  void aDrainMovesTheSessionsToTheSurgePodAndARestartedPodAdoptsItsOwn(HandoffEnvironment env) {
    var old = new KubernetesPod(env.bootstrapServers(), env.zookeeperConnect(), "game-0", "1.0");
    old.sessions.put("game-7", state("game-7", 70));
    old.handoff.stash("game-7", old.sessions.get("game-7")).join();
    var surge = new KubernetesPod(env.bootstrapServers(), env.zookeeperConnect(), "game-1", "1.1");
    await()
        .until(
            () ->
                old.handoff.members().stream()
                    .anyMatch(m -> m.id().equals("game-1") && m.state() == MemberState.RUNNING));

    var drained =
        old.handoff.drain(HandoverTarget.newestVersionEvenly(), Duration.ofSeconds(20), old.mover);

    assertThat(drained.done().join().moved()).isEqualTo(1);
    await().until(() -> surge.sessions.containsKey("game-7"));
    assertThat(surge.sessions.get("game-7").get("tick")).isEqualTo(70L);
    assertThat(old.sessions).isEmpty();
    old.handoff.leave().join();
    old.handoff.close();

    // The surge pod restarts under its name, as a StatefulSet pod would: stash, leave, adopt.
    surge.handoff.stash("game-7", surge.sessions.get("game-7")).join();
    surge.handoff.leave().join();
    surge.handoff.close();
    var restarted =
        new KubernetesPod(env.bootstrapServers(), env.zookeeperConnect(), "game-1", "1.1");
    try {
      await().until(() -> restarted.sessions.containsKey("game-7"));
      assertThat(restarted.sessions.get("game-7").get("tick")).isEqualTo(70L);
    } finally {
      restarted.handoff.close();
    }
  }
}
