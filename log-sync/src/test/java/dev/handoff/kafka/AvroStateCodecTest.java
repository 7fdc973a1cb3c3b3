package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.StateCodecException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/**
 * Codec behaviour without a broker: two nodes are simulated by two schema stores; the topic's
 * replication of writer schemas is simulated by adding the other node's schema to a store (the
 * integration test does it over Kafka).
 */
class AvroStateCodecTest {

  static final Schema V1 = Player.SCHEMA$;
  static final Schema V2 =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "Player", "namespace": "dev.handoff.kafka",
               "fields": [
                 {"name": "name", "type": "string"},
                 {"name": "score", "type": "int"},
                 {"name": "level", "type": "int", "default": 1}
               ]}
              """);

  private static <T> AvroStateCodec<T> codec(
      org.apache.avro.generic.GenericData model, Schema schema, WriterSchemas store) {
    store.add(schema);
    return new AvroStateCodec<>(model, schema, store, CompletableFuture.completedFuture(null));
  }

  @Test
  void genericRecordsRoundTrip() {
    AvroStateCodec<GenericRecord> codec = codec(GenericData.get(), V2, new WriterSchemas());
    GenericRecord r = new GenericData.Record(V2);
    r.put("name", "ada");
    r.put("score", 7);
    r.put("level", 3);
    GenericRecord back = codec.decode(codec.encode(r));
    assertThat(back.get("name").toString()).isEqualTo("ada");
    assertThat(back.get("level")).isEqualTo(3);
  }

  @Test
  void specificRecordsRoundTrip() {
    AvroStateCodec<Player> codec =
        codec(new SpecificData(Player.class.getClassLoader()), V1, new WriterSchemas());
    Player back = codec.decode(codec.encode(new Player("bob", 12)));
    assertThat(back.name()).isEqualTo("bob");
    assertThat(back.score()).isEqualTo(12);
  }

  @Test
  void oldAndNewVersionsReadEachOthersStateOnceSchemasAreReplicated() {
    var oldStore = new WriterSchemas();
    var newStore = new WriterSchemas();
    AvroStateCodec<Player> oldNode =
        codec(new SpecificData(Player.class.getClassLoader()), V1, oldStore);
    AvroStateCodec<GenericRecord> newNode = codec(GenericData.get(), V2, newStore);

    GenericRecord fromNew = new GenericData.Record(V2);
    fromNew.put("name", "cy");
    fromNew.put("score", 5);
    fromNew.put("level", 9);
    byte[] newBytes = newNode.encode(fromNew);
    byte[] oldBytes = oldNode.encode(new Player("dee", 4));

    assertThatThrownBy(() -> oldNode.decode(newBytes))
        .isInstanceOf(StateCodecException.class)
        .hasMessageContaining("unknown writer schema");
    oldStore.add(V2);
    newStore.add(V1);

    Player readByOld = oldNode.decode(newBytes);
    assertThat(readByOld.name()).isEqualTo("cy");
    assertThat(readByOld.score()).isEqualTo(5);
    GenericRecord readByNew = newNode.decode(oldBytes);
    assertThat(readByNew.get("name").toString()).isEqualTo("dee");
    assertThat(readByNew.get("level")).as("default of the added field").isEqualTo(1);
  }

  @Test
  void corruptBytesFailWithStateCodecException() {
    AvroStateCodec<Player> codec =
        codec(new SpecificData(Player.class.getClassLoader()), V1, new WriterSchemas());
    byte[] good = codec.encode(new Player("eve", 1));
    var random = new Random(3);
    for (int i = 0; i < 100; i++) {
      byte[] junk = new byte[random.nextInt(30)];
      random.nextBytes(junk);
      assertThatThrownBy(() -> codec.decode(junk)).isInstanceOf(StateCodecException.class);
    }
    for (int len = 0; len < good.length; len++) {
      byte[] truncated = Arrays.copyOf(good, len);
      assertThatThrownBy(() -> codec.decode(truncated)).isInstanceOf(StateCodecException.class);
    }
    byte[] unknown = good.clone();
    unknown[9] ^= 1;
    assertThatThrownBy(() -> codec.decode(unknown))
        .isInstanceOf(StateCodecException.class)
        .hasMessageContaining("unknown writer schema fingerprint");
  }

  @Test
  void refusesToEncodeBeforeItsSchemaIsPublished() {
    var pending = new CompletableFuture<Void>();
    var store = new WriterSchemas();
    store.add(V1);
    var codec = new AvroStateCodec<Player>(new SpecificData(), V1, store, pending);
    assertThatThrownBy(() -> codec.encode(new Player("x", 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not yet acknowledged");
    pending.complete(null);
    assertThat(codec.encode(new Player("x", 1))).isNotEmpty();
  }

  @Test
  void aStateThatDoesNotMatchTheSchemaIsRefused() {
    AvroStateCodec<GenericRecord> codec = codec(GenericData.get(), V2, new WriterSchemas());
    GenericRecord r = new GenericData.Record(V2);
    r.put("name", "no score");
    assertThatThrownBy(() -> codec.encode(r))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dev.handoff.kafka.Player");
  }
}
