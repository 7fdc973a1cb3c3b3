package dev.handoff.kafka;

import dev.handoff.spi.SlotState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hand-written single-object codecs of log-sync against Avro's own {@code
 * BinaryMessageEncoder}/{@code BinaryMessageDecoder}, one record at a time on one thread:
 *
 * <ul>
 *   <li>{@code wire*}: the delta log's record value ({@code SlotState}, wire version 1), which the
 *       reader decodes for every record on replay;
 *   <li>{@code state*}: an application state through {@code AvroStateCodec} (now on Avro's codec)
 *       and through the earlier hand-written path (header plus datum writer/reader).
 * </ul>
 *
 * In package {@code dev.handoff.kafka} to reach log-sync's package-private codecs; benchmark code
 * only, never on a library's class path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx512m"})
public class AvroCodecBenchmark {

  private static final Schema GAME =
      SchemaBuilder.record("GameState")
          .namespace("bench")
          .fields()
          .requiredString("room")
          .requiredLong("tick")
          .name("players")
          .type()
          .array()
          .items()
          .stringType()
          .noDefault()
          .requiredBytes("board")
          .endRecord();

  /** Bytes of the state carried in a record (the wire value) or the board (the game state). */
  @Param({"1024"})
  public int valueBytes;

  private SlotState slot;
  private byte[] wireBytes;
  private WireFormat wire;
  private BinaryMessageDecoder<GenericRecord> wireDecoder;
  private BinaryMessageEncoder<GenericRecord> wireEncoder;

  private GenericRecord game;
  private byte[] stateBytes;
  private SingleObject.Reader<GenericRecord> handReader;
  private DatumWriter<GenericRecord> handWriter;
  private BinaryMessageDecoder<GenericRecord> stateDecoder;
  private BinaryMessageEncoder<GenericRecord> stateEncoder;
  private AvroStateCodec<GenericRecord> codec;
  private long gameFingerprint;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    byte[] value = new byte[valueBytes];
    new java.util.Random(1).nextBytes(value);
    var store = new WriterSchemas();
    store.add(WireFormat.SLOT_STATE_V1);
    store.add(GAME);

    slot = new SlotState(3, 1_234_567, 42, 1_700_000_000_000L << 16, value, false);
    wireBytes = WireFormat.encode(slot);
    wire = new WireFormat(store);
    wireDecoder = new BinaryMessageDecoder<>(GenericData.get(), WireFormat.SLOT_STATE_V1, store);
    wireEncoder = new BinaryMessageEncoder<>(GenericData.get(), WireFormat.SLOT_STATE_V1);

    game = new GenericData.Record(GAME);
    game.put("room", "room-0042");
    game.put("tick", 123_456L);
    game.put("players", List.of("ada", "bob", "cy", "dee"));
    game.put("board", ByteBuffer.wrap(value));
    handReader = new SingleObject.Reader<>(GenericData.get(), GAME, store);
    @SuppressWarnings("unchecked")
    DatumWriter<GenericRecord> w =
        (DatumWriter<GenericRecord>) GenericData.get().createDatumWriter(GAME);
    handWriter = w;
    stateDecoder = new BinaryMessageDecoder<>(GenericData.get(), GAME, store);
    stateEncoder = new BinaryMessageEncoder<>(GenericData.get(), GAME);
    codec =
        new AvroStateCodec<>(
            GenericData.get(), GAME, store, CompletableFuture.completedFuture(null));
    gameFingerprint = SingleObject.fingerprint(GAME);
    stateBytes = stateHandWrittenEncode();
  }

  /** The reader's path today: the hand-rolled version-1 decoder, no Avro objects. */
  @Benchmark
  public SlotState wireDecodeHandRolled() {
    return wire.decode(wireBytes);
  }

  /** The same value through Avro's decoder, then the fields into a SlotState. */
  @Benchmark
  public SlotState wireDecodeAvroMessageDecoder() throws IOException {
    GenericRecord r = wireDecoder.decode(wireBytes);
    ByteBuffer v = (ByteBuffer) r.get("value");
    byte[] value = null;
    if (v != null) {
      value = new byte[v.remaining()];
      v.get(value);
    }
    return new SlotState(
        (Long) r.get("epoch"),
        (Long) r.get("claimOffset"),
        (Long) r.get("seq"),
        (Long) r.get("hlc"),
        value,
        (Boolean) r.get("ended"));
  }

  /** The appender's path today: the hand-rolled encoder into one exact-size array. */
  @Benchmark
  public byte[] wireEncodeHandRolled() {
    return WireFormat.encode(slot);
  }

  /** The same SlotState as a GenericRecord through Avro's encoder. */
  @Benchmark
  public ByteBuffer wireEncodeAvroMessageEncoder() throws IOException {
    GenericRecord r = new GenericData.Record(WireFormat.SLOT_STATE_V1);
    r.put("epoch", slot.epoch());
    r.put("claimOffset", slot.claimOffset());
    r.put("seq", slot.seq());
    r.put("hlc", slot.hlc());
    r.put("value", ByteBuffer.wrap(slot.value()));
    r.put("ended", slot.ended());
    return wireEncoder.encode(r);
  }

  /** AvroStateCodec.decode as it is now (Avro's BinaryMessageDecoder, trailing-bytes check). */
  @Benchmark
  public GenericRecord stateDecodeAvroStateCodec() {
    return codec.decode(stateBytes);
  }

  /** The earlier hand-written decode path: header check, datum reader per writer fingerprint. */
  @Benchmark
  public GenericRecord stateDecodeHandWritten() {
    return handReader.read(stateBytes);
  }

  /** Avro's decoder alone. */
  @Benchmark
  public GenericRecord stateDecodeAvroMessageDecoder() throws IOException {
    return stateDecoder.decode(stateBytes);
  }

  /** AvroStateCodec.encode as it is now (Avro's BinaryMessageEncoder). */
  @Benchmark
  public byte[] stateEncodeAvroStateCodec() {
    return codec.encode(game);
  }

  /** The earlier hand-written encode path: header, then the datum writer. */
  @Benchmark
  public byte[] stateHandWrittenEncode() throws IOException {
    var out = new ByteArrayOutputStream(256);
    byte[] header = new byte[SingleObject.HEADER_BYTES];
    SingleObject.writeHeader(header, gameFingerprint);
    out.writeBytes(header);
    var enc = EncoderFactory.get().binaryEncoder(out, null);
    handWriter.write(game, enc);
    enc.flush();
    return out.toByteArray();
  }

  /** Avro's encoder alone. */
  @Benchmark
  public ByteBuffer stateEncodeAvroMessageEncoder() throws IOException {
    return stateEncoder.encode(game);
  }
}
