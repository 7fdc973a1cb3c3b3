package dev.handoff.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;

/** JSON output: one pretty-printed document per command, and Avro data as plain JSON. */
final class Json {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Json() {}

  static ObjectNode object() {
    return NODES.objectNode();
  }

  static ArrayNode array() {
    return NODES.arrayNode();
  }

  static void print(PrintWriter out, JsonNode node) {
    try {
      out.println(MAPPER.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  /**
   * Avro data as the JSON a person expects: records as objects, unions as the branch's value (no
   * type wrapper, unlike Avro's JSON encoding), bytes and fixed as base64, enums as strings.
   */
  static JsonNode ofAvro(Object value, Schema schema) {
    if (value == null) {
      return NODES.nullNode();
    }
    return switch (schema.getType()) {
      case RECORD -> {
        var node = NODES.objectNode();
        var record = (IndexedRecord) value;
        for (var field : schema.getFields()) {
          node.set(field.name(), ofAvro(record.get(field.pos()), field.schema()));
        }
        yield node;
      }
      case UNION -> {
        int branch = GenericData.get().resolveUnion(schema, value);
        yield ofAvro(value, schema.getTypes().get(branch));
      }
      case ARRAY -> {
        var node = NODES.arrayNode();
        for (Object item : (Collection<?>) value) {
          node.add(ofAvro(item, schema.getElementType()));
        }
        yield node;
      }
      case MAP -> {
        var node = NODES.objectNode();
        for (var e : ((Map<?, ?>) value).entrySet()) {
          node.set(e.getKey().toString(), ofAvro(e.getValue(), schema.getValueType()));
        }
        yield node;
      }
      case BYTES -> {
        ByteBuffer b = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        yield NODES.textNode(Base64.getEncoder().encodeToString(bytes));
      }
      case FIXED ->
          NODES.textNode(Base64.getEncoder().encodeToString(((GenericFixed) value).bytes()));
      case STRING, ENUM -> NODES.textNode(value.toString());
      case INT -> NODES.numberNode((Integer) value);
      case LONG -> NODES.numberNode((Long) value);
      case FLOAT -> NODES.numberNode((Float) value);
      case DOUBLE -> NODES.numberNode((Double) value);
      case BOOLEAN -> NODES.booleanNode((Boolean) value);
      case NULL -> NODES.nullNode();
    };
  }
}
