package dev.handoff.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo's and the game node's command lines (picocli), with the defaults they always had. */
class OptionsTest {

  @Test
  void demoDefaultsAreTheDocumentedOnes() {
    var o = DemoOptions.parse();
    assertThat(o)
        .isEqualTo(
            new DemoOptions(
                3,
                1000,
                512,
                0,
                List.of("drain"),
                null,
                null,
                12,
                1,
                100,
                1000,
                15000, // issue 16: the library's default (3 s expired busy nodes)
                3000,
                2000,
                null,
                256)); // issue 16: node heaps sized from the sessions
    assertThat(o.embedded()).isTrue();
  }

  @Test
  void theStashIntervalGrowsAboveTwentyThousandSessionsUnlessGiven() {
    assertThat(DemoOptions.parse().stashMillis()).isEqualTo(1000);
    assertThat(DemoOptions.parse("--sessions", "20000").stashMillis()).isEqualTo(1000);
    assertThat(DemoOptions.parse("--sessions", "30000").stashMillis()).isEqualTo(1500);
    assertThat(DemoOptions.parse("--sessions", "100000").stashMillis()).isEqualTo(5000);
    assertThat(
            DemoOptions.parse("--sessions", "100000", "--stash-interval-ms", "700").stashMillis())
        .isEqualTo(700);
  }

  @Test
  void nodeHeapsGrowWithSessionsTimesStateSizeUnlessGiven() {
    assertThat(DemoOptions.parse().nodeHeapMegabytes()).isEqualTo(256);
    assertThat(DemoOptions.parse("--sessions", "30000", "--state-size", "1024").nodeHeapMegabytes())
        .isEqualTo(320);
    assertThat(
            DemoOptions.parse("--sessions", "100000", "--state-size", "1024").nodeHeapMegabytes())
        .isEqualTo(640);
    assertThat(DemoOptions.parse("--sessions", "100000", "--node-heap", "1024").nodeHeapMegabytes())
        .isEqualTo(1024);
    assertThatThrownBy(() -> DemoOptions.parse("--node-heap", "10"))
        .hasMessageContaining("--node-heap");
  }

  @Test
  void demoOptionsTakeSpaceOrEqualsAndCrashPicksNodeTwo() {
    var o =
        DemoOptions.parse(
            "--nodes=4", "--sessions", "50", "--crash", "--kafka", "k:1", "--zookeeper=z:2");
    assertThat(o.nodes()).isEqualTo(4);
    assertThat(o.sessions()).isEqualTo(50);
    assertThat(o.crashNode()).isEqualTo(2);
    assertThat(o.kafka()).isEqualTo("k:1");
    assertThat(o.zookeeper()).isEqualTo("z:2");
    assertThat(DemoOptions.parse("--crash-node", "3", "--run-dir", "x").runDir())
        .isEqualTo(Path.of("x"));
  }

  @Test
  void badDemoOptionsAreNamedInTheError() {
    assertThatThrownBy(() -> DemoOptions.parse("--nodes", "0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("option --nodes must be between 1 and 50, was 0");
    assertThatThrownBy(() -> DemoOptions.parse("--crash-node", "4"))
        .hasMessageContaining("--crash-node");
    assertThatThrownBy(() -> DemoOptions.parse("--tick-ms", "fast"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tick-ms")
        .hasMessageContaining("fast");
    assertThatThrownBy(() -> DemoOptions.parse("--bogus")).hasMessageContaining("--bogus");
    assertThatThrownBy(() -> DemoOptions.parse("--kafka", "k:1"))
        .hasMessageContaining("--kafka and --zookeeper go together");
    assertThatThrownBy(() -> DemoOptions.parse("--help"))
        .isInstanceOf(NodeSettings.HelpRequested.class)
        .hasMessageContaining("--stash-interval-ms=MS")
        .hasMessageContaining("[max(1000, sessions/20)]");
  }

  @Test
  void nodeSettingsSurviveTheirOwnCommandLine() {
    var s =
        new NodeSettings(
            "k:1", "z:2", "t", 6, 1, "node-2", "v2", true, 90, 3, 2, 100, 50, 500, 3000, "stash",
            true);
    assertThat(NodeSettings.parse(s.toArgs().toArray(String[]::new))).isEqualTo(s);
  }

  @Test
  void nodeSettingsNeedTheServersAndAMemberIdAndAKnownVersion() {
    var defaults =
        NodeSettings.parse(new String[] {"--kafka", "k", "--zookeeper", "z", "--member-id", "m"});
    assertThat(defaults.topic()).isEqualTo("handoff-demo");
    assertThat(defaults.version()).isEqualTo("v1");
    assertThat(defaults.sessions()).isZero(); // only with --create
    assertThatThrownBy(() -> NodeSettings.parse(new String[] {"--kafka", "k", "--zookeeper", "z"}))
        .hasMessageContaining("--member-id");
    assertThatThrownBy(
            () ->
                NodeSettings.parse(
                    new String[] {
                      "--kafka", "k", "--zookeeper", "z", "--member-id", "m", "--version", "v3"
                    }))
        .hasMessageContaining("v3");
    assertThatThrownBy(() -> NodeSettings.parse(new String[] {"--help"}))
        .isInstanceOf(NodeSettings.HelpRequested.class);
  }
}
