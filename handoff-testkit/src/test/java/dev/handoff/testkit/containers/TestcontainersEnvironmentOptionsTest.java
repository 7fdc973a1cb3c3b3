package dev.handoff.testkit.containers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Options of {@link TestcontainersEnvironment} that need no Docker. */
class TestcontainersEnvironmentOptionsTest {

  @Test
  void imagesComeFromTheSystemPropertyBeforeTheEnvironmentAndTheDefault() {
    String key = "handoff.test.image.probe";
    assertThat(TestcontainersEnvironment.configuredImage(key, "HANDOFF_NO_SUCH_VAR", "fallback:1"))
        .isEqualTo("fallback:1");
    System.setProperty(key, " local/kafka:9 ");
    try {
      assertThat(
              TestcontainersEnvironment.configuredImage(key, "HANDOFF_NO_SUCH_VAR", "fallback:1"))
          .isEqualTo("local/kafka:9");
    } finally {
      System.clearProperty(key);
    }
  }

  @Test
  void badImageNamesAreRejectedNamingTheOption() {
    assertThatThrownBy(() -> TestcontainersEnvironment.builder().kafkaImage(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kafkaImage");
    assertThatThrownBy(() -> TestcontainersEnvironment.builder().zookeeperImage("Not An Image"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("zookeeperImage")
        .hasMessageContaining("Not An Image");
  }
}
