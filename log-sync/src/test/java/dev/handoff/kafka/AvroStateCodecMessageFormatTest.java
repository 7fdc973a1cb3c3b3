package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.StateCodecException;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/**
 * AvroStateCodec on Avro's own single-object encoder and decoder: the bytes are those the earlier
 * hand-written codec wrote (states already in a topic stay readable), and it stays strict.
 */
class AvroStateCodecMessageFormatTest {

  private static AvroStateCodec<Player> codec() {
    var store = new WriterSchemas();
    store.add(Player.SCHEMA$);
    return new AvroStateCodec<>(
        new SpecificData(Player.class.getClassLoader()),
        Player.SCHEMA$,
        store,
        CompletableFuture.completedFuture(null));
  }

  /** What the hand-written codec wrote: the single-object header, then the datum writer's body. */
  private static byte[] handWritten(GenericRecord r) throws Exception {
    var out = new ByteArrayOutputStream();
    byte[] header = new byte[SingleObject.HEADER_BYTES];
    SingleObject.writeHeader(header, SingleObject.fingerprint(r.getSchema()));
    out.writeBytes(header);
    var enc = EncoderFactory.get().binaryEncoder(out, null);
    GenericData.get().createDatumWriter(r.getSchema()).write(r, enc);
    enc.flush();
    return out.toByteArray();
  }

  @Test
  void writesAndReadsTheBytesOfTheHandWrittenCodec() throws Exception {
    GenericRecord r = new GenericData.Record(Player.SCHEMA$);
    r.put("name", "fay");
    r.put("score", 99);
    byte[] old = handWritten(r);

    var codec = codec();
    assertThat(codec.encode(new Player("fay", 99))).isEqualTo(old);
    Player back = codec.decode(old);
    assertThat(back.name()).isEqualTo("fay");
    assertThat(back.score()).isEqualTo(99);
  }

  @Test
  void trailingBytesAndABadMagicAreRefused() {
    var codec = codec();
    byte[] good = codec.encode(new Player("gus", 3));
    byte[] longer = Arrays.copyOf(good, good.length + 2);
    assertThatThrownBy(() -> codec.decode(longer))
        .isInstanceOf(StateCodecException.class)
        .hasMessageContaining("2 trailing bytes");
    byte[] badMagic = good.clone();
    badMagic[0] = 0x00;
    assertThatThrownBy(() -> codec.decode(badMagic))
        .isInstanceOf(StateCodecException.class)
        .hasMessageContaining("not Avro single-object encoding");
  }
}
