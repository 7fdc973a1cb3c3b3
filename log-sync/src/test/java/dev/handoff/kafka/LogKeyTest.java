package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.WriterId;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogKeyTest {

  @Test
  void slotKeyRoundTrips() {
    for (String session : new String[] {"s", "game-42", "ünïcødé ☃", "x".repeat(300)}) {
      byte[] key = LogKey.slot(session, "node-a#7");
      assertThat(LogKey.decode(key)).isEqualTo(new LogKey.Slot(session, "node-a#7"));
    }
  }

  @Test
  void pairsThatConcatenateToTheSameTextGetDistinctKeys() {
    String[][] pairs = {{"a#b", "c"}, {"a", "b#c"}, {"ab", "c"}, {"a", "bc"}, {"a\u0000", "b"}};
    Set<String> seen = new HashSet<>();
    for (String[] p : pairs) {
      byte[] key = LogKey.slot(p[0], p[1]);
      assertThat(seen.add(Arrays.toString(key))).as("key of %s", Arrays.toString(p)).isTrue();
      assertThat(LogKey.decode(key)).isEqualTo(new LogKey.Slot(p[0], p[1]));
    }
  }

  @Test
  void writerSchemaKeyRoundTripsAndDiffersFromEverySlotKey() {
    byte[] key = LogKey.writerSchema(0x0123456789abcdefL);
    assertThat(LogKey.decode(key)).isEqualTo(new LogKey.WriterSchema(0x0123456789abcdefL));
    assertThat(key[0]).isNotEqualTo(LogKey.slot("s", "w")[0]);
  }

  @Test
  void rejectsKeysItCannotRead() {
    byte[] good = LogKey.slot("session", "writer");
    assertThatThrownBy(() -> LogKey.decode(null)).isInstanceOf(UndecodableRecordException.class);
    assertThatThrownBy(() -> LogKey.decode(new byte[0]))
        .isInstanceOf(UndecodableRecordException.class);
    assertThatThrownBy(() -> LogKey.decode(new byte[] {0x07, 1, 'a', 'b'}))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("unknown key type 0x07");
    // Cut anywhere up to an empty writer id: rejected. (A cut inside the writer id would still be
    // a well-formed key; Kafka never truncates keys, the check is against foreign writers.)
    for (int len = 1; len <= 2 + "session".length(); len++) {
      byte[] truncated = Arrays.copyOf(good, len);
      assertThatThrownBy(() -> LogKey.decode(truncated))
          .as("truncated to %d bytes", len)
          .isInstanceOf(UndecodableRecordException.class);
    }
    byte[] badUtf8 = {LogKey.SLOT, 1, (byte) 0xff, 'w'};
    assertThatThrownBy(() -> LogKey.decode(badUtf8))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("UTF-8");
    assertThatThrownBy(() -> LogKey.decode(new byte[] {LogKey.SCHEMA, 1, 2}))
        .isInstanceOf(UndecodableRecordException.class);
  }

  @Test
  void aWriterIdIsExactlyWhatCoreWritesForAMemberIncarnation() {
    for (String ok : List.of("a#0", "node-1#7", "pod-x.y#9223372036854775807", "ü#12", "a b#3")) {
      assertThat(LogKey.isWriterId(ok)).as(ok).isTrue();
      assertThat(WriterId.parse(ok).toString()).isEqualTo(ok);
    }
    for (String bad : PoisonRecordsTest.FOREIGN_WRITERS) {
      assertThat(LogKey.isWriterId(bad)).as(bad).isFalse();
    }
    assertThat(LogKey.isWriterId("a#9223372036854775808")).isFalse();
    assertThat(LogKey.isWriterId("a#18446744073709551617")).isFalse();
    // Every string the check accepts is one that core's WriterId reads and writes back unchanged,
    // with an epoch of at least 0; random strings over the interesting characters agree.
    var random = new Random(5);
    char[] alphabet = {'a', '#', '0', '1', '9', '-', '+', ' '};
    for (int i = 0; i < 20_000; i++) {
      var sb = new StringBuilder();
      for (int n = random.nextInt(8); n >= 0; n--) {
        sb.append(alphabet[random.nextInt(alphabet.length)]);
      }
      String w = sb.toString();
      boolean core;
      try {
        WriterId id = WriterId.parse(w);
        core = id.epoch() >= 0 && id.toString().equals(w);
      } catch (IllegalArgumentException e) {
        core = false;
      }
      assertThat(LogKey.isWriterId(w)).as("'%s'", w).isEqualTo(core);
    }
  }

  @Test
  void theLayoutKeyIsOneReservedByte() {
    assertThat(LogKey.decode(LogKey.layout())).isEqualTo(new LogKey.Layout());
    assertThatThrownBy(() -> LogKey.decode(new byte[] {LogKey.LAYOUT, 0}))
        .isInstanceOf(UndecodableRecordException.class);
    assertThat(PartitionLayout.decodeValue(PartitionLayout.encodeValue(12), 0, 5)).isEqualTo(12);
    assertThatThrownBy(() -> PartitionLayout.decodeValue(new byte[] {1, 0, 0, 0, 0}, 0, 5))
        .isInstanceOf(UndecodableRecordException.class);
    assertThatThrownBy(() -> PartitionLayout.decodeValue(new byte[] {2, 0, 0, 0, 1}, 0, 5))
        .isInstanceOf(UndecodableRecordException.class);
  }

  @Test
  void aSessionAlwaysMapsToOnePartitionWhateverTheWriter() {
    for (int i = 0; i < 1000; i++) {
      int p = KafkaDeltaLog.partitionFor("session-" + i, 12);
      assertThat(p).isBetween(0, 11);
      assertThat(KafkaDeltaLog.partitionFor("session-" + i, 12)).isEqualTo(p);
    }
    // Same placement as Kafka's default partitioner for a record keyed by the session bytes.
    byte[] bytes = "session-7".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(KafkaDeltaLog.partitionFor("session-7", 12))
        .isEqualTo(
            org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey(
                bytes, 12));
  }
}
