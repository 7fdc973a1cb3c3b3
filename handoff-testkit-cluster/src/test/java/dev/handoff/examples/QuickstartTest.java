package dev.handoff.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.testkit.HandoffEnvironment;
import dev.handoff.testkit.HandoffTest;
import org.junit.jupiter.api.Test;

/** The README quickstart, run for real: one pod stashes and leaves, its successor picks up. */
@HandoffTest
class QuickstartTest {

  @Test
  void theQuickstartHandsASessionOver(HandoffEnvironment env) {
    var pod0 = new Quickstart(env.bootstrapServers(), env.zookeeperConnect(), "game-0");
    pod0.host("game-42", 1234);
    pod0.handoff.leave().join();
    pod0.handoff.close();

    var pod1 = new Quickstart(env.bootstrapServers(), env.zookeeperConnect(), "game-1");
    try {
      var state = pod1.takeOver("game-42");
      assertThat(state).isPresent();
      assertThat(state.get().get("tick")).isEqualTo(1234L);
      assertThat(pod1.sessions).containsKey("game-42");
    } finally {
      pod1.handoff.close();
    }
  }
}
