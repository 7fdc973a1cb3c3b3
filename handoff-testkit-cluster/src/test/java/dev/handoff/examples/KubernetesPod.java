package dev.handoff.examples;

import dev.handoff.SessionMover;
import dev.handoff.StateHandoff;
import dev.handoff.kafka.AvroStateCodec;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.zk.ZkMembership;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.generic.GenericRecord;

/** The README's Kubernetes section, kept here so it compiles and runs (see KubernetesPodTest). */
public final class KubernetesPod {
  final Map<String, GenericRecord> sessions = new ConcurrentHashMap<>(); // what this pod hosts
  final StateHandoff<GenericRecord> handoff;
  final SessionMover<GenericRecord> mover;

  KubernetesPod(String kafka, String zookeeper, String podName, String version) {
    KafkaDeltaLog log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka)
            .topic("game-sessions")
            .replicationFactor(1)
            .build();
    handoff =
        StateHandoff.<GenericRecord>builder()
            .deltaLog(log)
            .membership(
                ZkMembership.builder()
                    .connectString(zookeeper)
                    .group("game-servers")
                    .memberId(podName)
                    .version(version) // drains prefer the newest version
                    .digestAuth("game-servers", "change-me")
                    .build())
            .codec(AvroStateCodec.generic(Quickstart.GAME_STATE, log))
            .build();
    // --- README kubernetes: begin
    // Sessions another pod hands over while it drains resume here, at their state then.
    handoff.onHandover(arrival -> sessions.put(arrival.session(), arrival.state()));
    handoff.start().join(); // readiness probe: handoff.isReady()
    // A StatefulSet pod restarted under its name (or after a crash) takes back what it owned,
    // each session as soon as it is owned (nothing to adopt for a new Deployment pod).
    handoff.adopt(podName, Duration.ofMinutes(2), a -> sessions.put(a.session(), a.state()));
    // On SIGTERM: if another pod is RUNNING, hand each session to the newest version, stopping
    // it only when its own transfer starts; stash what no pod took, for a successor to adopt.
    mover =
        session -> {
          GenericRecord last = sessions.remove(session); // stop playing it here
          return last != null ? last : handoff.peek(session).orElseThrow();
        };
    handoff.leaveOnShutdown(Duration.ofSeconds(25), mover);
    // --- README kubernetes: end
  }
}
