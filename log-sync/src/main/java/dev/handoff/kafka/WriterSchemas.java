package dev.handoff.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;

/**
 * Every Avro writer schema this node knows, by fingerprint: its own, plus every schema replayed
 * from the topic's reserved writer-schema records. Written by the reader thread and by codec
 * registration, read by any thread.
 *
 * <p>Value of a writer-schema record: {@code 0x01}, then the schema's JSON in UTF-8.
 */
final class WriterSchemas implements SchemaStore {

  private static final byte VALUE_V1 = 0x01;

  private final Map<Long, Schema> byFingerprint = new ConcurrentHashMap<>();

  void add(Schema schema) {
    byFingerprint.putIfAbsent(SingleObject.fingerprint(schema), schema);
  }

  @Override
  public Schema findByFingerprint(long fingerprint) {
    return byFingerprint.get(fingerprint);
  }

  int size() {
    return byFingerprint.size();
  }

  static byte[] encodeValue(Schema schema) {
    byte[] json = schema.toString().getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[json.length + 1];
    out[0] = VALUE_V1;
    System.arraycopy(json, 0, out, 1, json.length);
    return out;
  }

  /**
   * Reads a writer-schema record's value and checks it against the fingerprint in its key.
   *
   * @throws UndecodableRecordException if the value is not a schema with that fingerprint; never
   *     anything else, whatever the value holds
   */
  static Schema decodeValue(long keyFingerprint, byte[] value) {
    if (value == null || value.length < 2 || value[0] != VALUE_V1) {
      throw new UndecodableRecordException("writer-schema record has no version-1 value");
    }
    Schema schema;
    long actual;
    try {
      schema =
          new Schema.Parser().parse(new String(value, 1, value.length - 1, StandardCharsets.UTF_8));
      actual = SingleObject.fingerprint(schema);
    } catch (RuntimeException | StackOverflowError e) {
      // Anyone who can write to the topic can write this record: Avro's parser throws many kinds
      // of runtime exceptions (invalid default, duplicate field, ...), and deep nesting overflows
      // the stack. Each is one bad record, never a reason to stop reading.
      throw new UndecodableRecordException(
          "writer-schema record holds no valid Avro schema: " + e, e);
    }
    if (actual != keyFingerprint) {
      throw new UndecodableRecordException(
          String.format(
              "writer-schema record keyed %016x holds a schema with fingerprint %016x",
              keyFingerprint, actual));
    }
    return schema;
  }
}
