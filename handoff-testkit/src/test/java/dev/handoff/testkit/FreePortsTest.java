package dev.handoff.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FreePortsTest {

  @Test
  void givesDistinctPortsThatCanBeBoundOnLoopback() throws Exception {
    int[] ports = FreePorts.onLoopback(5);
    assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(5);
    for (int port : ports) {
      try (var s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
        assertThat(s.getLocalPort()).isEqualTo(port);
      }
    }
  }

  @Test
  void refusesANonPositiveCount() {
    assertThatThrownBy(() -> FreePorts.onLoopback(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("count");
  }
}
