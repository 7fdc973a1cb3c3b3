package dev.handoff.kafka;

import dev.handoff.spi.SlotState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.SchemaStore;

/**
 * The value of a data record: a {@link SlotState} in Avro single-object encoding with the versioned
 * wire schema {@code dev.handoff.wire.SlotState}.
 *
 * <p>Version 1 is written and read with a hand-rolled Avro binary codec (the bytes are exactly what
 * Avro's generic writer produces for {@link #SLOT_STATE_V1}; a test checks it) because the reader
 * decodes every record of the topic on replay. Any other writer fingerprint (a later Handoff
 * version) is resolved from the writer-schema store, which every node fills from the topic, and
 * read through Avro schema resolution into version 1: fields added later are ignored.
 */
final class WireFormat {

  static final Schema SLOT_STATE_V1 =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "SlotState", "namespace": "dev.handoff.wire",
               "doc": "Handoff delta-log record value, wire version 1",
               "fields": [
                 {"name": "epoch", "type": "long"},
                 {"name": "claimOffset", "type": "long"},
                 {"name": "seq", "type": "long"},
                 {"name": "hlc", "type": "long"},
                 {"name": "value", "type": ["null", "bytes"], "default": null},
                 {"name": "ended", "type": "boolean", "default": false}
               ]}
              """);

  static final long V1_FINGERPRINT = SingleObject.fingerprint(SLOT_STATE_V1);

  private final SingleObject.Reader<GenericRecord> evolved;

  WireFormat(SchemaStore writerSchemas) {
    this.evolved = new SingleObject.Reader<>(GenericData.get(), SLOT_STATE_V1, writerSchemas);
  }

  static byte[] encode(SlotState state) {
    int valueLength = state.value() == null ? 0 : state.value().length;
    var out = new ByteArrayOutputStream(SingleObject.HEADER_BYTES + 48 + valueLength);
    byte[] header = new byte[SingleObject.HEADER_BYTES];
    SingleObject.writeHeader(header, V1_FINGERPRINT);
    out.writeBytes(header);
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      enc.writeLong(state.epoch());
      enc.writeLong(state.claimOffset());
      enc.writeLong(state.seq());
      enc.writeLong(state.hlc());
      if (state.value() == null) {
        enc.writeIndex(0);
      } else {
        enc.writeIndex(1);
        enc.writeBytes(state.value());
      }
      enc.writeBoolean(state.ended());
      enc.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Decodes a data record's value.
   *
   * @throws UndecodableRecordException if the value is corrupt, truncated, of an unknown wire
   *     schema, or describes an impossible state
   */
  SlotState decode(byte[] bytes) {
    long fp = SingleObject.readFingerprint(bytes);
    try {
      if (fp == V1_FINGERPRINT) {
        return decodeV1(bytes);
      }
      GenericRecord r = evolved.read(bytes);
      ByteBuffer v = (ByteBuffer) r.get("value");
      return new SlotState(
          (Long) r.get("epoch"),
          (Long) r.get("claimOffset"),
          (Long) r.get("seq"),
          (Long) r.get("hlc"),
          v == null ? null : toArray(v),
          (Boolean) r.get("ended"));
    } catch (IllegalArgumentException e) {
      throw new UndecodableRecordException("impossible slot state: " + e.getMessage(), e);
    }
  }

  /** Reads the Avro binary body of version 1 straight from the array: no copies but the value. */
  private static SlotState decodeV1(byte[] bytes) {
    var in = new Cursor(bytes, SingleObject.HEADER_BYTES);
    long epoch = in.readLong();
    long claimOffset = in.readLong();
    long seq = in.readLong();
    long hlc = in.readLong();
    byte[] value;
    long index = in.readLong();
    if (index == 0) {
      value = null;
    } else if (index == 1) {
      long length = in.readLong();
      if (length < 0 || length > bytes.length - in.pos) {
        throw new UndecodableRecordException(
            "truncated or corrupt version-1 slot state: value length " + length);
      }
      value = Arrays.copyOfRange(bytes, in.pos, in.pos + (int) length);
      in.pos += (int) length;
    } else {
      throw new UndecodableRecordException("bad union index " + index + " for 'value'");
    }
    if (in.pos >= bytes.length) {
      throw new UndecodableRecordException("truncated version-1 slot state: no 'ended'");
    }
    byte endedByte = bytes[in.pos++];
    if (endedByte != 0 && endedByte != 1) {
      throw new UndecodableRecordException("bad boolean " + endedByte + " for 'ended'");
    }
    if (in.pos != bytes.length) {
      throw new UndecodableRecordException("trailing bytes after a version-1 slot state");
    }
    return new SlotState(epoch, claimOffset, seq, hlc, value, endedByte == 1);
  }

  /** Avro zig-zag varints read from a byte array, with overrun checks. */
  private static final class Cursor {
    private final byte[] bytes;
    private int pos;

    Cursor(byte[] bytes, int pos) {
      this.bytes = bytes;
      this.pos = pos;
    }

    long readLong() {
      long raw = 0;
      for (int shift = 0; shift < 70; shift += 7) {
        if (pos >= bytes.length) {
          throw new UndecodableRecordException("truncated version-1 slot state");
        }
        byte b = bytes[pos++];
        raw |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return (raw >>> 1) ^ -(raw & 1);
        }
      }
      throw new UndecodableRecordException("corrupt varint in version-1 slot state");
    }
  }

  private static byte[] toArray(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
