package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.handoff.spi.SlotState;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class WireFormatTest {

  private final WriterSchemas store = new WriterSchemas();
  private final WireFormat wire = new WireFormat(store);

  @Test
  void liveAndEndedStatesRoundTrip() {
    var live = new SlotState(3, 1234, 17, 0x1234_5678_9abcL, new byte[] {1, 2, 3}, false);
    var claim = new SlotState(1, SlotState.SELF, 0, -5, new byte[0], false);
    var ended = new SlotState(9, 77, Long.MAX_VALUE, Long.MIN_VALUE, null, true);
    for (var s : new SlotState[] {live, claim, ended}) {
      assertThat(wire.decode(WireFormat.encode(s))).isEqualTo(s);
    }
  }

  @Test
  void isExactlyAvroSingleObjectEncodingOfTheVersion1Schema() throws Exception {
    var state = new SlotState(2, 10, 5, 99, "hello".getBytes(), false);
    byte[] ours = WireFormat.encode(state);

    GenericRecord r = new GenericData.Record(WireFormat.SLOT_STATE_V1);
    r.put("epoch", 2L);
    r.put("claimOffset", 10L);
    r.put("seq", 5L);
    r.put("hlc", 99L);
    r.put("value", ByteBuffer.wrap("hello".getBytes()));
    r.put("ended", false);
    byte[] avros =
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), WireFormat.SLOT_STATE_V1)
            .encode(r)
            .array();
    assertThat(ours).isEqualTo(avros);

    GenericRecord back =
        new BinaryMessageDecoder<GenericRecord>(GenericData.get(), WireFormat.SLOT_STATE_V1)
            .decode(ours);
    assertThat(back.get("seq")).isEqualTo(5L);
  }

  @Test
  void matchesAvrosEncoderForExtremeAndRandomStates() {
    var avro = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), WireFormat.SLOT_STATE_V1);
    // Varint lengths change at 2^6, 2^13, ...; zig-zag maps negatives too: cover both.
    long[] edges = {1, 63, 64, 65, 8191, 8192, 1L << 20, Long.MAX_VALUE};
    long[] anyEdges = {0, -1, 63, 64, -64, -65, 8192, Long.MAX_VALUE, Long.MIN_VALUE};
    var random = new Random(42);
    for (int i = 0; i < 5_000; i++) {
      long epoch = random.nextBoolean() ? edges[random.nextInt(edges.length)] : 1 + pos(random);
      long claim = random.nextBoolean() ? edges[random.nextInt(edges.length)] - 2 : pos(random) - 1;
      long seq = random.nextBoolean() ? anyEdges[random.nextInt(anyEdges.length)] : any(random);
      long hlc = random.nextBoolean() ? anyEdges[random.nextInt(anyEdges.length)] : any(random);
      boolean ended = random.nextInt(4) == 0;
      byte[] value = null;
      if (!ended) {
        value = new byte[random.nextInt(4) == 0 ? random.nextInt(20_000) : random.nextInt(200)];
        random.nextBytes(value);
      }
      var state = new SlotState(epoch, claim, seq, hlc, value, ended);
      GenericRecord r = new GenericData.Record(WireFormat.SLOT_STATE_V1);
      r.put("epoch", epoch);
      r.put("claimOffset", claim);
      r.put("seq", seq);
      r.put("hlc", hlc);
      r.put("value", value == null ? null : ByteBuffer.wrap(value));
      r.put("ended", ended);
      byte[] expected;
      try {
        expected = avro.encode(r).array();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      assertThat(WireFormat.encode(state)).as("state %s", state).isEqualTo(expected);
    }
  }

  /** A non-negative long of random magnitude (so every varint length occurs). */
  private static long pos(Random random) {
    return (random.nextLong() >>> 1) >>> random.nextInt(63);
  }

  private static long any(Random random) {
    return random.nextLong() >> random.nextInt(64);
  }

  @Test
  void aLaterWireVersionIsReadThroughItsPublishedSchema() throws Exception {
    Schema v2 =
        new Schema.Parser()
            .parse(
                """
                {"type": "record", "name": "SlotState", "namespace": "dev.handoff.wire",
                 "fields": [
                   {"name": "epoch", "type": "long"},
                   {"name": "claimOffset", "type": "long"},
                   {"name": "seq", "type": "long"},
                   {"name": "hlc", "type": "long"},
                   {"name": "value", "type": ["null", "bytes"], "default": null},
                   {"name": "ended", "type": "boolean", "default": false},
                   {"name": "origin", "type": "string", "default": ""}
                 ]}
                """);
    GenericRecord r = new GenericData.Record(v2);
    r.put("epoch", 4L);
    r.put("claimOffset", 8L);
    r.put("seq", 15L);
    r.put("hlc", 16L);
    r.put("value", ByteBuffer.wrap(new byte[] {42}));
    r.put("ended", false);
    r.put("origin", "eu-west");
    byte[] bytes = singleObject(v2, r);

    assertThatThrownBy(() -> wire.decode(bytes))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("unknown writer schema");
    store.add(v2); // as replayed from the topic's reserved record
    assertThat(wire.decode(bytes)).isEqualTo(new SlotState(4, 8, 15, 16, new byte[] {42}, false));
  }

  @Test
  void aHandoverIsWrittenInVersion2AndAnOlderNodeReadsItWithoutTheNewField() throws Exception {
    var handover = new SlotState(3, 7, 9, 11, new byte[] {5, 6}, false, "node-b#42");
    byte[] bytes = WireFormat.encode(handover);
    assertThat(SingleObject.readFingerprint(bytes)).isEqualTo(WireFormat.V2_FINGERPRINT);
    // a plain record stays version 1: the replay's fast path
    assertThat(SingleObject.readFingerprint(WireFormat.encode(handover.withoutHandover())))
        .isEqualTo(WireFormat.V1_FINGERPRINT);
    store.add(WireFormat.SLOT_STATE_V2); // as replayed from the topic's reserved record
    assertThat(wire.decode(bytes)).isEqualTo(handover);
    // exactly what Avro's own writer produces for the version 2 schema
    var generic = new org.apache.avro.generic.GenericData.Record(WireFormat.SLOT_STATE_V2);
    generic.put("epoch", 3L);
    generic.put("claimOffset", 7L);
    generic.put("seq", 9L);
    generic.put("hlc", 11L);
    generic.put("value", ByteBuffer.wrap(new byte[] {5, 6}));
    generic.put("ended", false);
    generic.put("handoverTo", "node-b#42");
    assertThat(bytes).isEqualTo(singleObject(WireFormat.SLOT_STATE_V2, generic));

    // a node of the version before (its reader schema is version 1) resolves and ignores it (I8)
    var older =
        new SingleObject.Reader<org.apache.avro.generic.GenericRecord>(
            GenericData.get(), WireFormat.SLOT_STATE_V1, store);
    var r = older.read(bytes);
    assertThat(r.get("epoch")).isEqualTo(3L);
    assertThat(r.get("seq")).isEqualTo(9L);
    assertThat(r.getSchema().getField("handoverTo")).isNull();
  }

  @Test
  void corruptValuesAreRejectedNeverMisread() {
    byte[] good = WireFormat.encode(new SlotState(3, 4, 5, 6, new byte[] {9, 9, 9, 9}, false));

    var random = new Random(1);
    for (int i = 0; i < 200; i++) {
      byte[] junk = new byte[random.nextInt(40)];
      random.nextBytes(junk);
      assertThatThrownBy(() -> wire.decode(junk)).isInstanceOf(UndecodableRecordException.class);
    }
    byte[] wrongMagic = good.clone();
    wrongMagic[1] = 0x02;
    assertThatThrownBy(() -> wire.decode(wrongMagic))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("magic");
    byte[] unknownFingerprint = good.clone();
    unknownFingerprint[5] ^= 0x55;
    assertThatThrownBy(() -> wire.decode(unknownFingerprint))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("unknown writer schema fingerprint");
    for (int len = 0; len < good.length; len++) {
      byte[] truncated = Arrays.copyOf(good, len);
      assertThatThrownBy(() -> wire.decode(truncated))
          .as("truncated to %d bytes", len)
          .isInstanceOf(UndecodableRecordException.class);
    }
    byte[] trailing = Arrays.copyOf(good, good.length + 1);
    assertThatThrownBy(() -> wire.decode(trailing))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("trailing");
  }

  @Test
  void anImpossibleStateIsRejected() {
    // epoch 0 cannot occur: SlotState requires >= 1.
    byte[] good = WireFormat.encode(new SlotState(1, 4, 5, 6, new byte[] {1}, false));
    byte[] zeroEpoch = good.clone();
    zeroEpoch[SingleObject.HEADER_BYTES] = 0; // zig-zag varint of 0
    assertThatThrownBy(() -> wire.decode(zeroEpoch))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("epoch");
  }

  @Test
  void writerSchemaRecordsRoundTripAndAreCheckedAgainstTheirKey() {
    byte[] value = WriterSchemas.encodeValue(WireFormat.SLOT_STATE_V1);
    assertThat(WriterSchemas.decodeValue(WireFormat.V1_FINGERPRINT, value))
        .isEqualTo(WireFormat.SLOT_STATE_V1);
    assertThatThrownBy(() -> WriterSchemas.decodeValue(42L, value))
        .isInstanceOf(UndecodableRecordException.class)
        .hasMessageContaining("fingerprint");
    assertThatThrownBy(() -> WriterSchemas.decodeValue(42L, new byte[] {1, '{'}))
        .isInstanceOf(UndecodableRecordException.class);
  }

  static byte[] singleObject(Schema schema, GenericRecord record) throws Exception {
    var out = new ByteArrayOutputStream();
    byte[] header = new byte[SingleObject.HEADER_BYTES];
    SingleObject.writeHeader(header, SingleObject.fingerprint(schema));
    out.write(header);
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, enc);
    enc.flush();
    return out.toByteArray();
  }
}
