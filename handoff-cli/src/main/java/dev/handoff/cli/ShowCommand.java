package dev.handoff.cli;

import dev.handoff.internal.crdt.Hlc;
import dev.handoff.kafka.TopicReader;
import dev.handoff.spi.StateCodecException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code show <session>}: one session's owner and state, the state decoded as JSON. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = {
      "Prints one session as JSON: owner, epoch, where its winning record is, and the state. A"
          + " state written by AvroStateCodec is decoded with the writer schema stored in the"
          + " topic (no application classes needed); other states are shown as UTF-8 text if they"
          + " are, else as base64. Always prints JSON; --output is accepted for symmetry."
    })
final class ShowCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;
  @Mixin OutputOptions output;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "session", description = "The session key.")
  String session;

  @Override
  public Integer call() {
    try (var snapshot = kafka.snapshot()) {
      var s =
          snapshot.sessions().stream()
              .filter(x -> x.session().equals(session))
              .findFirst()
              .orElseThrow(
                  () ->
                      new CliException(
                          HandoffCli.NOT_FOUND,
                          "session '" + session + "' is not in topic '" + kafka.topic + "'"));
      var node =
          Json.object()
              .put("session", s.session())
              .put("owner", s.owner())
              .put("epoch", s.epoch())
              .put("ended", s.ended())
              .put("partition", s.partition())
              .put("offset", s.offset())
              .put("lastWrite", Instant.ofEpochMilli(s.timestamp()).toString())
              .put("hlc", Hlc.format(s.hlc()))
              .put("sizeBytes", s.size())
              .put("slots", s.liveSlots());
      if (s.ended()) {
        node.putNull("state");
      } else {
        describeState(snapshot.reader(), s.value(), node);
      }
      Json.print(spec.commandLine().getOut(), node);
    }
    return HandoffCli.OK;
  }

  private static void describeState(
      TopicReader reader, byte[] value, com.fasterxml.jackson.databind.node.ObjectNode node) {
    var fingerprint = TopicReader.stateFingerprint(value);
    if (fingerprint.isPresent()) {
      long fp = fingerprint.getAsLong();
      var schema = reader.writerSchema(fp);
      node.put("encoding", "avro");
      node.putObject("schema")
          .put("name", schema.map(x -> x.getFullName()).orElse(null))
          .put("fingerprint", String.format("%016x", fp));
      try {
        var record = reader.decodeState(value);
        node.set("state", Json.ofAvro(record, record.getSchema()));
        return;
      } catch (StateCodecException e) {
        node.put("error", e.getMessage());
      }
    } else {
      try {
        String text =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(value))
                .toString();
        node.put("encoding", "utf-8");
        node.put("state", text);
        return;
      } catch (CharacterCodingException notText) {
        // falls through to base64
      }
    }
    node.put("encoding", "base64");
    node.put("state", Base64.getEncoder().encodeToString(value));
  }
}
