package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

/** Which reader errors are a batch to skip, and which are fatal. */
class CorruptBatchesTest {

  private final CorruptBatches batches =
      new CorruptBatches("game-7", Duration.ofSeconds(1), () -> {});

  @Test
  void theConsumersErrorForARefusedBatchNamesItsPartition() {
    // As kafka-clients 4.3.1 words it for a CRC mismatch.
    var e =
        new KafkaException(
            "Received exception when fetching the next record from game-7-11. If needed, please"
                + " seek past the record to continue consumption.",
            new KafkaException(
                "Record batch for partition game-7-11 at offset 42 is invalid, cause: Record is"
                    + " corrupt (stored crc = 1, computed crc = 2)"));
    assertThat(batches.partitionOf(e)).isEqualTo(11);
  }

  @Test
  void typedErrorsAndOtherTopicsAreNotABatchToSkip() {
    String message = "Received exception when fetching the next record from game-7-3.";
    assertThat(batches.partitionOf(new TopicAuthorizationException(Set.of("game-7"))))
        .isEqualTo(-1);
    assertThat(batches.partitionOf(new AuthorizationException(message))).isEqualTo(-1);
    assertThat(batches.partitionOf(new UnknownTopicOrPartitionException(message))).isEqualTo(-1);
    assertThat(batches.partitionOf(new KafkaException("something else"))).isEqualTo(-1);
    assertThat(batches.partitionOf(new KafkaException((String) null))).isEqualTo(-1);
    assertThat(
            batches.partitionOf(
                new KafkaException(
                    "Received exception when fetching the next record from game-77-3.")))
        .as("another topic whose name starts with ours")
        .isEqualTo(-1);
  }
}
