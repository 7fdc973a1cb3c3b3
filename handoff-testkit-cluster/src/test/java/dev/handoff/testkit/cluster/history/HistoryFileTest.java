package dev.handoff.testkit.cluster.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.handoff.HandoffException;
import dev.handoff.testkit.cluster.history.Op.Outcome;
import dev.handoff.testkit.cluster.history.Op.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Histories survive the trip through their files, including a process killed mid-line. */
class HistoryFileTest {
  @TempDir Path dir;

  @Test
  void operationsReadBackWithTheirOutcomesAndACallWithoutCompletionIsUnknown() throws Exception {
    Path file = dir.resolve("node-1.1.history");
    try (var h = HistoryFile.record("node-1.1", file)) {
      long stash = h.invoke("node-1#5", Type.STASH, "game-1", "1:node-1.1:1", null);
      long pickup = h.invoke("node-1#5", Type.PICKUP, "game-2", null, null);
      long read = h.invoke("node-1#5", Type.READ, "game-3", null, null);
      long fenced = h.invoke("node-1#5", Type.STASH, "game-2", "2:node-1.1:2", "1:node-1.1:1");
      long timedOut = h.invoke("node-1#5", Type.END, "game-1", null, null);
      h.invoke("node-1#5", Type.STASH, "game-1", "2:node-1.1:3", "1:node-1.1:1"); // killed
      h.ok(stash, Type.STASH, null);
      h.ok(pickup, Type.PICKUP, "7:node-2.1:9");
      h.ok(read, Type.READ, null);
      h.failed(fenced, new HandoffException.Fenced("lost it"), false);
      h.failed(timedOut, new HandoffException.Timeout("slow"), true);
    }
    // kill -9 in the middle of a line
    Files.writeString(
        file, "C\tnode-1.1\t6\t12", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    List<Op> ops = HistoryFile.read(List.of(file));

    assertThat(ops)
        .extracting(Op::type, Op::key, Op::outcome, Op::result)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Type.STASH, "game-1", Outcome.OK, null),
            org.assertj.core.groups.Tuple.tuple(Type.PICKUP, "game-2", Outcome.OK, "7:node-2.1:9"),
            org.assertj.core.groups.Tuple.tuple(Type.READ, "game-3", Outcome.OK, null),
            org.assertj.core.groups.Tuple.tuple(Type.STASH, "game-2", Outcome.FAIL, "Fenced"),
            org.assertj.core.groups.Tuple.tuple(Type.END, "game-1", Outcome.UNKNOWN, "Timeout"),
            org.assertj.core.groups.Tuple.tuple(Type.STASH, "game-1", Outcome.UNKNOWN, null));
    assertThat(ops.get(3).possiblyApplied()).isFalse();
    assertThat(ops.get(3).base()).isEqualTo("1:node-1.1:1");
    assertThat(ops.get(5).completed()).isFalse();
    assertThat(ops.get(5).possiblyApplied()).isTrue();
    assertThat(ops).allMatch(op -> op.invokedAt() <= op.completedAt());
  }

  @Test
  void anEndingReadsBackAsWritten() {
    var ending =
        new HistoryChecker.Ending(
            Set.of("node-1#5", "reader#9"),
            Map.of("game-1", "node-1#5", "game-2", "node-2#3"),
            Map.of("node-1#5", Set.of("game-1", "game-3"), "reader#9", Set.of()));
    Path file = dir.resolve("ending.txt");

    HistoryFile.writeEnding(file, ending);

    assertThat(HistoryFile.readEnding(file)).isEqualTo(ending);
  }
}
