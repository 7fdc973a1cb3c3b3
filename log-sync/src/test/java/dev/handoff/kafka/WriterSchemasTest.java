package dev.handoff.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/** Writer-schema records: whatever JSON one holds, decoding it never throws anything else. */
class WriterSchemasTest {

  /** JSON that Avro's parser rejects, one of each kind of failure. */
  static final List<String> REJECTED_BY_AVRO =
      List.of(
          // invalid default (AvroTypeException)
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
              + "\"default\":\"x\"}]}",
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\","
              + "\"default\":null}]}",
          // duplicate field name
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
              + "{\"name\":\"a\",\"type\":\"int\"}]}",
          // undefined type, unknown primitive
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"Nope\"}]}",
          "{\"type\":\"foo\"}",
          // bad names
          "{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}",
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"-a\",\"type\":\"int\"}]}",
          // missing parts
          "{\"type\":\"record\",\"name\":\"R\"}",
          "{\"type\":\"record\",\"fields\":[]}",
          "{\"type\":\"map\"}",
          "{\"type\":\"array\"}",
          "{\"type\":\"fixed\",\"name\":\"F\"}",
          "{\"type\":\"enum\",\"name\":\"E\"}",
          // bad values
          "{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}",
          "{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"x\"}",
          "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}",
          "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}",
          "{\"type\":5}",
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":{}}",
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[5]}",
          // unions: duplicate branch, nested union
          "[\"int\",\"int\"]",
          "[[\"int\"],\"null\"]",
          // a name defined twice
          "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
              + "{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}}]}",
          // not JSON, empty, deeply nested
          "{\"type\":",
          "",
          "null",
          "[".repeat(1200) + "]".repeat(1200),
          "{\"type\":\"array\",\"items\":".repeat(1200) + "\"int\"" + "}".repeat(1200));

  @Test
  void everyKindOfSchemaAvroRejectsIsUndecodableNeverAnotherException() {
    var softly = new SoftAssertions();
    for (String json : REJECTED_BY_AVRO) {
      byte[] value = value(json);
      softly
          .assertThatThrownBy(() -> WriterSchemas.decodeValue(42L, value))
          .as("schema JSON %s", json.length() > 80 ? json.substring(0, 80) + "..." : json)
          .isInstanceOf(UndecodableRecordException.class);
    }
    softly.assertAll();
  }

  @Test
  void aSchemaNestedDeeperThanTheReaderThreadsStackIsUndecodable() throws Exception {
    // Within the JSON parser's nesting limit, but deep enough to overflow a small thread stack.
    String json = "{\"type\":\"array\",\"items\":".repeat(900) + "\"int\"" + "}".repeat(900);
    byte[] value = value(json);
    var thrown = new java.util.concurrent.atomic.AtomicReference<Throwable>();
    Thread t =
        new Thread(
            null,
            () -> {
              try {
                WriterSchemas.decodeValue(42L, value);
              } catch (Throwable e) {
                thrown.set(e);
              }
            },
            "small-stack",
            128 * 1024);
    t.start();
    t.join();
    assertThat(thrown.get()).isInstanceOf(UndecodableRecordException.class);
  }

  @Test
  void aValidSchemaWithTheFingerprintOfItsKeyIsRead() {
    byte[] value = WriterSchemas.encodeValue(WireFormat.SLOT_STATE_V1);
    assertThatCode(() -> WriterSchemas.decodeValue(WireFormat.V1_FINGERPRINT, value))
        .doesNotThrowAnyException();
    assertThat(WriterSchemas.decodeValue(WireFormat.V1_FINGERPRINT, value))
        .isEqualTo(WireFormat.SLOT_STATE_V1);
  }

  static byte[] value(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[bytes.length + 1];
    out[0] = 0x01;
    System.arraycopy(bytes, 0, out, 1, bytes.length);
    return out;
  }
}
