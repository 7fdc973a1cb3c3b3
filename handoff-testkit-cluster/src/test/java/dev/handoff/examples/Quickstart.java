package dev.handoff.examples;

import dev.handoff.StateHandoff;
import dev.handoff.kafka.AvroStateCodec;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.zk.ZkMembership;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** The README's quickstart, kept here so it compiles and runs (see QuickstartTest). */
public final class Quickstart {
  static final Schema GAME_STATE =
      SchemaBuilder.record("GameState")
          .namespace("com.example.game")
          .fields()
          .requiredString("session")
          .requiredLong("tick")
          .endRecord();

  final Map<String, GenericRecord> sessions = new ConcurrentHashMap<>(); // what this node hosts
  final StateHandoff<GenericRecord> handoff;

  Quickstart(String kafka, String zookeeper, String podName) {
    // --- README quickstart: begin
    KafkaDeltaLog log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka) // plus any client property: .clientProperty(k, v)
            .topic("game-sessions") // created compacted if missing; checked if it exists
            .replicationFactor(1) // 3 in production (the default)
            .build();
    ZkMembership membership =
        ZkMembership.builder()
            .connectString(zookeeper)
            .group("game-servers")
            .memberId(podName) // stable across restarts, e.g. the pod name
            .digestAuth("game-servers", "change-me") // the default ACL needs an identity
            .build();
    handoff =
        StateHandoff.<GenericRecord>builder()
            .deltaLog(log)
            .membership(membership)
            .codec(AvroStateCodec.generic(GAME_STATE, log))
            .build();
    handoff.start().join(); // joins the cluster, replays the topic, then ready

    // On SIGTERM: stash every hosted session, wait for the acks, leave the cluster.
    handoff.leaveOnShutdown(
        Duration.ofSeconds(20), () -> sessions.forEach((id, state) -> handoff.stash(id, state)));
    // --- README quickstart: end
  }

  void host(String session, long tick) {
    GenericRecord state = new GenericData.Record(GAME_STATE);
    state.put("session", session);
    state.put("tick", tick);
    sessions.put(session, state);
    handoff.stash(session, state).join(); // durable once this completes
  }

  Optional<GenericRecord> takeOver(String session) {
    // --- README pickup: begin
    Optional<GenericRecord> state = handoff.pickup(session).join(); // this node owns it now
    state.ifPresent(s -> sessions.put(session, s));
    // --- README pickup: end
    return state;
  }
}
