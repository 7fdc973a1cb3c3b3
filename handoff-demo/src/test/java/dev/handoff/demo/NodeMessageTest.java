package dev.handoff.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NodeMessageTest {

  @Test
  void everyMessageSurvivesItsLine() {
    List<NodeMessage> messages =
        List.of(
            new NodeMessage.Ready("node-1#42", "v2"),
            new NodeMessage.Waiting("node-1#7"),
            new NodeMessage.Gone("node-1#7", 1_700_000_000_000_000L),
            new NodeMessage.Adopted(3334, 2, 0, 120, 1_700_000_000_000_900L),
            new NodeMessage.Hosting("game-0001", true, 120, 1, 1_700_000_000_000_000L),
            new NodeMessage.Hosting("game-0002", false, 0, 0, 5),
            new NodeMessage.Stopped("game-0001", 130, 6, "shutdown"),
            new NodeMessage.Stopped("game-0001", 130, 6, "moving"),
            new NodeMessage.Acked("game-0001", 130, 7),
            new NodeMessage.StashFailed("game-0001", 131, "Fenced: owned by node-2#9"),
            new NodeMessage.PickupFailed("game-0003", "no state to pick up"),
            new NodeMessage.Hosted(List.of("game-0001:131:2", "game-0002:9:1")),
            new NodeMessage.Hosted(List.of()),
            new NodeMessage.Stats(333, 1000, 0, 50, 0),
            new NodeMessage.Stashed(333, 333, 120));
    for (NodeMessage m : messages) {
      assertThat(NodeMessage.decode(m.encode())).isEqualTo(m);
    }
  }

  @Test
  void otherLinesAreNotMessages() {
    assertThat(NodeMessage.decode("Picked up JAVA_TOOL_OPTIONS: -Xmx1g")).isNull();
    assertThat(NodeMessage.decode("HOST game-1 pickup notanumber 1 2")).isNull();
  }
}
