package dev.handoff.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The Kafka record key of the delta log: a tiny versioned binary format.
 *
 * <ul>
 *   <li>{@code 0x01} slot key: varint length of the UTF-8 session, the session bytes, then the
 *       UTF-8 writer id up to the end. The length prefix makes the encoding injective: two distinct
 *       (session, writer) pairs never produce the same bytes.
 *   <li>{@code 0x02} writer-schema key (reserved): the 8-byte big-endian CRC-64-AVRO fingerprint of
 *       the schema carried in the value. Never handed to the core.
 *   <li>{@code 0x03} layout key (reserved), nothing else: the value records the partition count the
 *       topic is used with ({@link PartitionLayout}). Never handed to the core.
 * </ul>
 *
 * Any other first byte is a key from a newer or foreign writer and is skipped as undecodable.
 */
sealed interface LogKey {

  byte SLOT = 0x01;
  byte SCHEMA = 0x02;
  byte LAYOUT = 0x03;

  /** A data record's key: the writer's slot for one session. */
  record Slot(String session, String writer) implements LogKey {}

  /** A reserved key carrying a writer schema, keyed by its fingerprint. */
  record WriterSchema(long fingerprint) implements LogKey {}

  /** The reserved key of the record that holds the topic's partition count. */
  record Layout() implements LogKey {}

  Layout THE_LAYOUT = new Layout();

  static byte[] slot(String session, String writer) {
    byte[] s = session.getBytes(StandardCharsets.UTF_8);
    byte[] w = writer.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(1 + 5 + s.length + w.length);
    buf.put(SLOT);
    int n = s.length;
    while ((n & ~0x7F) != 0) {
      buf.put((byte) ((n & 0x7F) | 0x80));
      n >>>= 7;
    }
    buf.put((byte) n);
    buf.put(s).put(w);
    byte[] out = new byte[buf.position()];
    buf.flip().get(out);
    return out;
  }

  static byte[] writerSchema(long fingerprint) {
    return ByteBuffer.allocate(9).put(SCHEMA).putLong(fingerprint).array();
  }

  static byte[] layout() {
    return new byte[] {LAYOUT};
  }

  /**
   * True if {@code writer} is a writer id as nodes write it: {@code memberId#epoch} with a
   * non-empty member id without {@code '#'} and the epoch as a decimal {@code long} of at least 0,
   * without sign or leading zeros (the form of core's {@code WriterId.toString()}, so that one
   * incarnation has one slot). Allocation-free: the reader checks every record.
   */
  static boolean isWriterId(String writer) {
    int hash = writer.indexOf('#');
    if (hash <= 0 || hash != writer.lastIndexOf('#')) {
      return false;
    }
    int digits = writer.length() - hash - 1;
    if (digits == 0 || digits > 19 || (digits > 1 && writer.charAt(hash + 1) == '0')) {
      return false;
    }
    long epoch = 0;
    for (int i = hash + 1; i < writer.length(); i++) {
      char c = writer.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      epoch = epoch * 10 + (c - '0');
      if (epoch < 0) {
        return false; // past Long.MAX_VALUE
      }
    }
    return true;
  }

  /**
   * Reads a key.
   *
   * @throws UndecodableRecordException if the bytes are not a key this version understands
   */
  static LogKey decode(byte[] key) {
    return key == null ? decode(null, 0, 0) : decode(key, 0, key.length);
  }

  /** Like {@link #decode(byte[])}, of the {@code length} bytes at {@code offset}. */
  static LogKey decode(byte[] key, int offset, int length) {
    if (key == null || length == 0) {
      throw new UndecodableRecordException("record has no key");
    }
    int end = offset + length;
    switch (key[offset]) {
      case SLOT -> {
        int len = 0;
        int shift = 0;
        int i = offset + 1;
        while (true) {
          if (i >= end || shift > 28) {
            throw new UndecodableRecordException("slot key has a bad session length");
          }
          byte b = key[i++];
          len |= (b & 0x7F) << shift;
          if ((b & 0x80) == 0) {
            break;
          }
          shift += 7;
        }
        if (len <= 0 || len > end - i - 1) {
          throw new UndecodableRecordException(
              "slot key is truncated or empty (session length " + len + ")");
        }
        return new Slot(utf8(key, i, len), utf8(key, i + len, end - i - len));
      }
      case SCHEMA -> {
        if (length != 9) {
          throw new UndecodableRecordException("writer-schema key must be 9 bytes");
        }
        return new WriterSchema(ByteBuffer.wrap(key, offset + 1, 8).getLong());
      }
      case LAYOUT -> {
        if (length != 1) {
          throw new UndecodableRecordException("layout key must be 1 byte");
        }
        return THE_LAYOUT;
      }
      default ->
          throw new UndecodableRecordException(
              String.format("unknown key type 0x%02x (written by a newer version?)", key[offset]));
    }
  }

  private static String utf8(byte[] bytes, int offset, int length) {
    boolean ascii = true;
    for (int i = offset; i < offset + length && ascii; i++) {
      ascii = bytes[i] >= 0;
    }
    if (ascii) {
      return new String(bytes, offset, length, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, offset, length))
          .toString();
    } catch (CharacterCodingException e) {
      throw new UndecodableRecordException("slot key is not valid UTF-8");
    }
  }
}
