package dev.handoff.kafka;

import dev.handoff.spi.StateCodec;
import dev.handoff.spi.StateCodecException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * A {@link StateCodec} for Avro records (generic or generated specific classes) that lets old and
 * new versions of an application read each other's state during a rolling deploy.
 *
 * <p>States are written in Avro single-object encoding: a header with the 64-bit fingerprint of the
 * writer schema, then the Avro binary body. The codec's schema is made known to every node through
 * the log's topic: creating the codec registers it with the {@link KafkaDeltaLog}, which publishes
 * it as a reserved record to every partition (before start completes, or at once if the log is
 * already started) and replays every other node's schemas from the topic. A state is therefore
 * always preceded, in its partition, by its writer schema, and any node decodes it with Avro schema
 * resolution into its own schema: a newer reader fills added fields from their defaults, an older
 * reader ignores them. Evolve schemas compatibly in both directions (add or remove fields with
 * defaults).
 *
 * <p>Thread-safe.
 *
 * @param <T> the state type: {@link GenericRecord} or a generated {@link SpecificRecord} class
 */
public final class AvroStateCodec<T> implements StateCodec<T> {

  private final GenericData model;
  private final Schema schema;
  private final long fingerprint;
  // Avro's own single-object codec; the decoder finds other versions' schemas in the store.
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;
  private final CompletableFuture<Void> published;

  AvroStateCodec(
      GenericData model,
      Schema schema,
      SchemaStore writerSchemas,
      CompletableFuture<Void> published) {
    this.model = model;
    this.schema = schema;
    this.fingerprint = SingleObject.fingerprint(schema);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema, writerSchemas);
    this.published = published;
  }

  /**
   * A codec for {@link GenericRecord}s of {@code schema}, which is both the writer schema of this
   * node and the schema records are read into. Registers the schema with {@code log}.
   */
  public static AvroStateCodec<GenericRecord> generic(Schema schema, KafkaDeltaLog log) {
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(log, "log");
    requireRecord(schema);
    return new AvroStateCodec<>(
        GenericData.get(), schema, log.writerSchemas, log.registerWriterSchema(schema));
  }

  /**
   * A codec for a generated Avro class; its {@code SCHEMA$} is this node's writer and reader
   * schema. Registers the schema with {@code log}.
   */
  public static <T extends SpecificRecord> AvroStateCodec<T> specific(
      Class<T> type, KafkaDeltaLog log) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(log, "log");
    var model = new SpecificData(type.getClassLoader());
    Schema schema = model.getSchema(type);
    requireRecord(schema);
    return new AvroStateCodec<>(model, schema, log.writerSchemas, log.registerWriterSchema(schema));
  }

  /** This node's schema. */
  public Schema schema() {
    return schema;
  }

  /**
   * Completes when this codec's writer schema is acknowledged on the log's topic, so every node can
   * read what it encodes. Codecs created before {@link KafkaDeltaLog#start} are published before
   * start completes.
   */
  public CompletableFuture<Void> published() {
    return published.copy();
  }

  /**
   * Encodes a state with this node's schema.
   *
   * @throws IllegalStateException if the writer schema is not yet acknowledged on the topic (see
   *     {@link #published()}), or its publication failed
   * @throws IllegalArgumentException if the state does not match the schema
   */
  @Override
  public byte[] encode(T state) {
    Objects.requireNonNull(state, "state");
    if (!published.isDone() || published.isCompletedExceptionally()) {
      Throwable cause = published.handle((v, e) -> e).getNow(null);
      throw new IllegalStateException(
          String.format(
              "Writer schema %s (%016x) is %s on the delta log's topic, so other nodes could not"
                  + " read this state; create the codec before KafkaDeltaLog.start() or wait for"
                  + " published()",
              schema.getFullName(),
              fingerprint,
              cause == null ? "not yet acknowledged" : "not published"),
          cause);
    }
    var out = new ByteArrayOutputStream(256);
    try {
      encoder.encode(state, out);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "State does not match Avro schema " + schema.getFullName() + ": " + e, e);
    }
    return out.toByteArray();
  }

  /**
   * Decodes a state written by this or another version of the application.
   *
   * @throws StateCodecException if the bytes are not single-object encoded, were written with a
   *     schema no node has published to the topic, or do not match their writer schema
   */
  @Override
  public T decode(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    var in = new ByteArrayInputStream(bytes);
    T state;
    try {
      state = decoder.decode(in, null);
    } catch (MissingSchemaException e) {
      throw failed(
          String.format("unknown writer schema fingerprint %016x", fingerprintOf(bytes)), e);
    } catch (BadHeaderException e) {
      throw failed("not Avro single-object encoding (" + e.getMessage() + ")", e);
    } catch (IOException | RuntimeException e) {
      throw failed("body does not match its writer schema: " + e, e);
    }
    // The decoder reads straight from the stream, so what is left is not part of the state.
    if (in.available() > 0) {
      throw failed(in.available() + " trailing bytes after the body", null);
    }
    return state;
  }

  private StateCodecException failed(String why, Throwable cause) {
    return new StateCodecException(
        "Cannot decode state as " + schema.getFullName() + ": " + why, cause);
  }

  private static long fingerprintOf(byte[] bytes) {
    try {
      return SingleObject.readFingerprint(bytes);
    } catch (UndecodableRecordException e) {
      return 0;
    }
  }

  @Override
  public String toString() {
    return "AvroStateCodec[" + schema.getFullName() + ", " + model.getClass().getSimpleName() + "]";
  }

  private static void requireRecord(Schema schema) {
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          "schema must be an Avro record, was " + schema.getType() + ": " + schema.getFullName());
    }
  }
}
