package dev.handoff.kafka;

import dev.handoff.spi.SlotState;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
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

  /**
   * Version 2 adds the receiver of a handover. Only a record that hands a session over is written
   * with it (rare: one per transfer), so the replay's hot path stays version 1; a node of an older
   * version reads it through schema resolution and ignores the field.
   */
  static final Schema SLOT_STATE_V2 =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "SlotState", "namespace": "dev.handoff.wire",
               "doc": "Handoff delta-log record value, wire version 2",
               "fields": [
                 {"name": "epoch", "type": "long"},
                 {"name": "claimOffset", "type": "long"},
                 {"name": "seq", "type": "long"},
                 {"name": "hlc", "type": "long"},
                 {"name": "value", "type": ["null", "bytes"], "default": null},
                 {"name": "ended", "type": "boolean", "default": false},
                 {"name": "handoverTo", "type": ["null", "string"], "default": null}
               ]}
              """);

  static final long V2_FINGERPRINT = SingleObject.fingerprint(SLOT_STATE_V2);

  private final SingleObject.Reader<GenericRecord> evolved;

  WireFormat(SchemaStore writerSchemas) {
    this.evolved = new SingleObject.Reader<>(GenericData.get(), SLOT_STATE_V2, writerSchemas);
  }

  static byte[] encode(SlotState state) {
    if (state.handoverTo() != null) {
      return encodeV2(state);
    }
    // Avro binary by hand, into one array of the exact size: zig-zag varints for the longs, the
    // union branch as a varint, bytes as a length then the raw bytes, the boolean as one byte.
    byte[] value = state.value();
    int size =
        SingleObject.HEADER_BYTES
            + varLongSize(state.epoch())
            + varLongSize(state.claimOffset())
            + varLongSize(state.seq())
            + varLongSize(state.hlc())
            + 1
            + (value == null ? 0 : varLongSize(value.length) + value.length)
            + 1;
    byte[] out = new byte[size];
    SingleObject.writeHeader(out, V1_FINGERPRINT);
    int at = SingleObject.HEADER_BYTES;
    at = writeVarLong(out, at, state.epoch());
    at = writeVarLong(out, at, state.claimOffset());
    at = writeVarLong(out, at, state.seq());
    at = writeVarLong(out, at, state.hlc());
    if (value == null) {
      out[at++] = 0; // union branch 0: null
    } else {
      out[at++] = 2; // union branch 1 (zig-zag): bytes
      at = writeVarLong(out, at, value.length);
      System.arraycopy(value, 0, out, at, value.length);
      at += value.length;
    }
    out[at] = (byte) (state.ended() ? 1 : 0);
    return out;
  }

  /** Version 2 by hand: version 1's fields, then the receiver as a union of null and string. */
  private static byte[] encodeV2(SlotState state) {
    byte[] value = state.value();
    byte[] to = state.handoverTo().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int size =
        SingleObject.HEADER_BYTES
            + varLongSize(state.epoch())
            + varLongSize(state.claimOffset())
            + varLongSize(state.seq())
            + varLongSize(state.hlc())
            + 1
            + (value == null ? 0 : varLongSize(value.length) + value.length)
            + 1
            + 1
            + varLongSize(to.length)
            + to.length;
    byte[] out = new byte[size];
    SingleObject.writeHeader(out, V2_FINGERPRINT);
    int at = SingleObject.HEADER_BYTES;
    at = writeVarLong(out, at, state.epoch());
    at = writeVarLong(out, at, state.claimOffset());
    at = writeVarLong(out, at, state.seq());
    at = writeVarLong(out, at, state.hlc());
    if (value == null) {
      out[at++] = 0;
    } else {
      out[at++] = 2;
      at = writeVarLong(out, at, value.length);
      System.arraycopy(value, 0, out, at, value.length);
      at += value.length;
    }
    out[at++] = (byte) (state.ended() ? 1 : 0);
    out[at++] = 2; // union branch 1 (zig-zag): string
    at = writeVarLong(out, at, to.length);
    System.arraycopy(to, 0, out, at, to.length);
    return out;
  }

  private static int varLongSize(long v) {
    long z = (v << 1) ^ (v >> 63);
    int n = 1;
    while ((z & ~0x7FL) != 0) {
      z >>>= 7;
      n++;
    }
    return n;
  }

  private static int writeVarLong(byte[] out, int at, long v) {
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7FL) != 0) {
      out[at++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    out[at++] = (byte) z;
    return at;
  }

  /**
   * Decodes a data record's value.
   *
   * @throws UndecodableRecordException if the value is corrupt, truncated, of an unknown wire
   *     schema, or describes an impossible state
   */
  SlotState decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  /** Like {@link #decode(byte[])}, of the {@code length} bytes at {@code offset}. */
  SlotState decode(byte[] bytes, int offset, int length) {
    long fp = SingleObject.readFingerprint(bytes, offset, length);
    try {
      if (fp == V1_FINGERPRINT) {
        return decodeV1(bytes, offset, offset + length);
      }
      GenericRecord r = evolved.read(Arrays.copyOfRange(bytes, offset, offset + length));
      ByteBuffer v = (ByteBuffer) r.get("value");
      Object to = r.get("handoverTo");
      return new SlotState(
          (Long) r.get("epoch"),
          (Long) r.get("claimOffset"),
          (Long) r.get("seq"),
          (Long) r.get("hlc"),
          v == null ? null : toArray(v),
          (Boolean) r.get("ended"),
          to == null ? null : to.toString());
    } catch (IllegalArgumentException e) {
      throw new UndecodableRecordException("impossible slot state: " + e.getMessage(), e);
    }
  }

  /** Reads the Avro binary body of version 1 straight from the array: no copies but the value. */
  private static SlotState decodeV1(byte[] bytes, int start, int end) {
    var in = new Cursor(bytes, start + SingleObject.HEADER_BYTES, end);
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
      if (length < 0 || length > end - in.pos) {
        throw new UndecodableRecordException(
            "truncated or corrupt version-1 slot state: value length " + length);
      }
      value = Arrays.copyOfRange(bytes, in.pos, in.pos + (int) length);
      in.pos += (int) length;
    } else {
      throw new UndecodableRecordException("bad union index " + index + " for 'value'");
    }
    if (in.pos >= end) {
      throw new UndecodableRecordException("truncated version-1 slot state: no 'ended'");
    }
    byte endedByte = bytes[in.pos++];
    if (endedByte != 0 && endedByte != 1) {
      throw new UndecodableRecordException("bad boolean " + endedByte + " for 'ended'");
    }
    if (in.pos != end) {
      throw new UndecodableRecordException("trailing bytes after a version-1 slot state");
    }
    return new SlotState(epoch, claimOffset, seq, hlc, value, endedByte == 1);
  }

  /** Avro zig-zag varints read from a byte array, with overrun checks. */
  private static final class Cursor {
    private final byte[] bytes;
    private final int end;
    private int pos;

    Cursor(byte[] bytes, int pos, int end) {
      this.bytes = bytes;
      this.pos = pos;
      this.end = end;
    }

    long readLong() {
      long raw = 0;
      for (int shift = 0; shift < 70; shift += 7) {
        if (pos >= end) {
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
