package dev.handoff.kafka;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.SchemaStore;

/**
 * Avro single-object encoding: {@code C3 01}, the writer schema's 8-byte little-endian CRC-64-AVRO
 * fingerprint, then the Avro binary body. A reader resolves the writer schema by fingerprint and
 * applies Avro schema resolution to its own reader schema.
 */
final class SingleObject {

  static final int HEADER_BYTES = 10;
  private static final byte MAGIC_0 = (byte) 0xC3;
  private static final byte MAGIC_1 = 0x01;

  private SingleObject() {}

  static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  static void writeHeader(byte[] out, long fingerprint) {
    out[0] = MAGIC_0;
    out[1] = MAGIC_1;
    for (int i = 0; i < 8; i++) {
      out[2 + i] = (byte) (fingerprint >>> (8 * i));
    }
  }

  /**
   * Reads the fingerprint from the header.
   *
   * @throws UndecodableRecordException if the bytes are too short or do not start with the magic
   */
  static long readFingerprint(byte[] bytes) {
    return readFingerprint(bytes, 0, bytes.length);
  }

  /** Like {@link #readFingerprint(byte[])}, of the {@code length} bytes at {@code offset}. */
  static long readFingerprint(byte[] bytes, int offset, int length) {
    if (length < HEADER_BYTES) {
      throw new UndecodableRecordException(
          "single-object encoding needs at least 10 bytes, got " + length);
    }
    if (bytes[offset] != MAGIC_0 || bytes[offset + 1] != MAGIC_1) {
      throw new UndecodableRecordException(
          String.format(
              "not Avro single-object encoding (magic 0x%02x%02x, expected 0xc301)",
              bytes[offset], bytes[offset + 1]));
    }
    long fp = 0;
    for (int i = 7; i >= 0; i--) {
      fp = (fp << 8) | (bytes[offset + 2 + i] & 0xFF);
    }
    return fp;
  }

  /** Decodes single-object bytes into one reader schema, resolving writer schemas from a store. */
  static final class Reader<T> {
    private final GenericData model;
    private final Schema readerSchema;
    private final SchemaStore writers;
    private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();

    Reader(GenericData model, Schema readerSchema, SchemaStore writers) {
      this.model = model;
      this.readerSchema = readerSchema;
      this.writers = writers;
    }

    /**
     * @throws UndecodableRecordException for a bad header, an unknown writer schema ({@link
     *     UnknownWriterSchemaException}), or a body that does not match its writer schema exactly
     *     (truncated or trailing bytes)
     */
    T read(byte[] bytes) {
      long fp = readFingerprint(bytes);
      DatumReader<T> reader = readers.get(fp);
      if (reader == null) {
        Schema writer = writers.findByFingerprint(fp);
        if (writer == null) {
          throw new UnknownWriterSchemaException(fp);
        }
        @SuppressWarnings("unchecked")
        DatumReader<T> created = (DatumReader<T>) model.createDatumReader(writer, readerSchema);
        readers.putIfAbsent(fp, created);
        reader = readers.get(fp);
      }
      BinaryDecoder in =
          DecoderFactory.get()
              .binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, null);
      try {
        T value = reader.read(null, in);
        if (!in.isEnd()) {
          throw new UndecodableRecordException(
              String.format("trailing bytes after the body (writer schema %016x)", fp));
        }
        return value;
      } catch (IOException | RuntimeException e) {
        if (e instanceof UndecodableRecordException u) {
          throw u;
        }
        throw new UndecodableRecordException(
            String.format("body does not match writer schema %016x: %s", fp, e), e);
      }
    }
  }
}
