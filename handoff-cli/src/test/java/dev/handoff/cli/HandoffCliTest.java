package dev.handoff.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.handoff.MemberState;
import dev.handoff.StateHandoff;
import dev.handoff.kafka.AvroStateCodec;
import dev.handoff.kafka.KafkaDeltaLog;
import dev.handoff.testkit.EmbeddedKafka;
import dev.handoff.testkit.EmbeddedZooKeeper;
import dev.handoff.testkit.FreePorts;
import dev.handoff.testkit.TopicRecords;
import dev.handoff.zk.ZkMembership;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against embedded Kafka and ZooKeeper, on a topic written by two real StateHandoff nodes:
 * node-3 stashes s-1 and leaves; node-1 stashes s-2 to s-5, node-2 s-6 to s-8; node-2 picks up s-1;
 * node-1 ends s-4.
 */
class HandoffCliTest {

  private static final String TOPIC = "game-sessions";
  private static final String GROUP = "games";
  private static final Schema GAME =
      SchemaBuilder.record("GameState")
          .namespace("demo")
          .fields()
          .requiredString("room")
          .requiredLong("tick")
          .name("players")
          .type()
          .array()
          .items()
          .stringType()
          .noDefault()
          .optionalString("note")
          .endRecord();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static EmbeddedZooKeeper zk;
  private static EmbeddedKafka kafka;
  private static final List<StateHandoff<GenericRecord>> nodes = new ArrayList<>();
  private static StateHandoff<GenericRecord> node1;
  private static StateHandoff<GenericRecord> node2;

  record Run(int exitCode, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  @BeforeAll
  static void startClusterAndWrite() throws Exception {
    zk = EmbeddedZooKeeper.start();
    kafka = EmbeddedKafka.builder().brokers(1).start();
    node1 = node("node-1");
    node2 = node("node-2");
    var node3 = node("node-3");
    node3.stash("s-1", game("room-1", 1, 1)).get(30, TimeUnit.SECONDS);
    node3.leave().get(30, TimeUnit.SECONDS);
    node3.close();
    for (int i = 2; i <= 5; i++) {
      node1.stash("s-" + i, game("room-" + i, i, i)).get(30, TimeUnit.SECONDS);
    }
    for (int i = 6; i <= 8; i++) {
      node2.stash("s-" + i, game("room-" + i, i, 1)).get(30, TimeUnit.SECONDS);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> node2.members().stream().noneMatch(m -> m.id().equals("node-3")));
    node2.pickup("s-1").get(30, TimeUnit.SECONDS);
    node2.stash("s-1", game("room-1", 100, 6)).get(30, TimeUnit.SECONDS);
    node1.end("s-4").get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopAll() {
    nodes.forEach(StateHandoff::close);
    if (kafka != null) {
      kafka.close();
    }
    if (zk != null) {
      zk.close();
    }
  }

  private static StateHandoff<GenericRecord> node(String id) throws Exception {
    var log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic(TOPIC)
            .partitions(3)
            .replicationFactor(1)
            .build();
    var membership =
        ZkMembership.builder()
            .connectString(zk.connectString())
            .group(GROUP)
            .memberId(id)
            .host("10.0.0." + id.charAt(id.length() - 1))
            .version("v1")
            .digestAuth("games", "secret")
            .build();
    StateHandoff<GenericRecord> handoff =
        StateHandoff.<GenericRecord>builder()
            .deltaLog(log)
            .membership(membership)
            .codec(AvroStateCodec.generic(GAME, log))
            .name(id)
            // No sweep during the test: the losing and ended slots stay for `stats` to count.
            .sweepInterval(Duration.ofHours(1))
            .build();
    nodes.add(handoff);
    handoff.start().get(60, TimeUnit.SECONDS);
    return handoff;
  }

  private static GenericRecord game(String room, long tick, int players) {
    var r = new GenericData.Record(GAME);
    r.put("room", room);
    r.put("tick", tick);
    var names = new ArrayList<String>();
    for (int i = 0; i < players; i++) {
      names.add("player-" + i);
    }
    r.put("players", names);
    r.put("note", tick == 100 ? "picked up" : null);
    return r;
  }

  private static Run cli(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    int code = HandoffCli.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  private static Run onTopic(String... args) {
    var all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--kafka", kafka.bootstrapServers(), "--topic", TOPIC));
    return cli(all.toArray(String[]::new));
  }

  @Test
  void membersListsBothNodesWithTheirEpochsStatesAndHosts() throws Exception {
    var table = cli("members", "--zookeeper", zk.connectString(), "--group", GROUP);
    assertThat(table.exitCode()).as(table.err()).isZero();
    assertThat(table.out())
        .contains("ID", "EPOCH", "VERSION", "STATE", "HOST", "REGISTERED")
        .contains("node-1", "node-2", "RUNNING", "10.0.0.1", "10.0.0.2")
        .contains(Long.toString(node1.self().epoch()))
        .contains("2 members in group 'games' under /handoff");

    var json = cli("members", "-z", zk.connectString(), "-g", GROUP, "--output", "json").json();
    assertThat(json).hasSize(2);
    assertThat(json.get(0).get("writer").asText()).isEqualTo(node1.self().writerId());
    assertThat(json.get(1).get("writer").asText()).isEqualTo(node2.self().writerId());
    assertThat(json.get(1).get("state").asText()).isEqualTo(MemberState.RUNNING.name());
    assertThat(json.get(1).get("version").asText()).isEqualTo("v1");
  }

  @Test
  void sessionsOfOneOwnerAreTheOnesItStillOwnsSortedBySize() throws Exception {
    var json = onTopic("sessions", "--owner", "node-1", "--sort", "size", "-o", "json").json();
    var sessions = new ArrayList<String>();
    json.forEach(n -> sessions.add(n.get("session").asText()));
    // s-4 ended; more players make a bigger state.
    assertThat(sessions).containsExactly("s-5", "s-3", "s-2");
    assertThat(json.get(0).get("owner").asText()).isEqualTo(node1.self().writerId());
    assertThat(json.get(0).get("sizeBytes").asInt())
        .isGreaterThan(json.get(2).get("sizeBytes").asInt());
    assertThat(node1.keysOwnedBy("node-1")).containsExactlyInAnyOrderElementsOf(sessions);

    var byWriter = onTopic("sessions", "--owner", node2.self().writerId());
    assertThat(byWriter.exitCode()).isZero();
    assertThat(byWriter.out())
        .contains("SESSION", "OWNER", "EPOCH", "SIZE", "LAST WRITE")
        .contains("s-1", "s-6", "s-7", "s-8")
        .doesNotContain("s-2")
        .contains("4 of 7 live sessions (owner " + node2.self().writerId() + ")");

    var all = onTopic("sessions", "--ended", "--limit", "100", "-o", "json").json();
    assertThat(all).hasSize(8);
    assertThat(all.get(3).get("session").asText()).isEqualTo("s-4");
    assertThat(all.get(3).get("ended").asBoolean()).isTrue();
  }

  @Test
  void showDecodesTheStateWithTheWriterSchemaStoredInTheTopic() throws Exception {
    var run = onTopic("show", "s-1");
    assertThat(run.exitCode()).as(run.err()).isZero();
    var json = run.json();
    assertThat(json.get("owner").asText()).isEqualTo(node2.self().writerId());
    assertThat(json.get("epoch").asLong()).isEqualTo(2);
    assertThat(json.get("encoding").asText()).isEqualTo("avro");
    assertThat(json.get("schema").get("name").asText()).isEqualTo("demo.GameState");
    var state = json.get("state");
    assertThat(state.get("room").asText()).isEqualTo("room-1");
    assertThat(state.get("tick").asLong()).isEqualTo(100);
    assertThat(state.get("players")).hasSize(6);
    assertThat(state.get("note").asText()).isEqualTo("picked up");
    // The same state the library returns.
    assertThat(node1.read("s-1").get(30, TimeUnit.SECONDS).orElseThrow().get("tick"))
        .isEqualTo(100L);

    var ended = onTopic("show", "s-4").json();
    assertThat(ended.get("ended").asBoolean()).isTrue();
    assertThat(ended.get("state").isNull()).isTrue();
  }

  @Test
  void showOfAnUnknownSessionExitsWithNotFound() {
    var run = onTopic("show", "no-such-session");
    assertThat(run.exitCode()).isEqualTo(4);
    assertThat(run.err()).contains("session 'no-such-session' is not in topic 'game-sessions'");
  }

  @Test
  void topicCheckPassesTheNodesTopicAndFailsADeleteTopicWithTheLibrarysMessage() throws Exception {
    var ok = onTopic("topic", "check");
    assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out())
        .contains(
            "topic 'game-sessions': 3 partitions, replication factor 1, cleanup.policy=compact")
        .contains("WARNING replication.factor")
        .contains("OK: Handoff can use this topic");

    try (var admin = Admin.create(kafka.adminProperties())) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("expiring", 1, (short) 1)
                      .configs(Map.of("cleanup.policy", "delete"))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    var bad = cli("topic", "check", "--kafka", kafka.bootstrapServers(), "-t", "expiring");
    assertThat(bad.exitCode()).isEqualTo(1);
    String message;
    try (var log =
        KafkaDeltaLog.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic("expiring")
            .replicationFactor(1)
            .build()) {
      message =
          log.start(e -> {}).handle((v, e) -> rootCause(e).getMessage()).get(30, TimeUnit.SECONDS);
    }
    assertThat(bad.out()).contains("ERROR cleanup.policy: " + message).contains("FAILED");

    var json =
        cli("topic", "check", "--kafka", kafka.bootstrapServers(), "-t", "expiring", "-o", "json")
            .json();
    assertThat(json.get("ok").asBoolean()).isFalse();
    assertThat(json.get("findings").get(0).get("message").asText()).isEqualTo(message);

    var missing = cli("topic", "check", "--kafka", kafka.bootstrapServers(), "-t", "nope");
    assertThat(missing.exitCode()).isEqualTo(4);
    assertThat(missing.err()).contains("Topic 'nope' does not exist");
  }

  @Test
  void statsCountWhatTheNodesWroteAndWhatCompactionAndSweepsWouldRemove() throws Exception {
    var json = onTopic("stats", "-o", "json").json();
    long records = TopicRecords.count(kafka.adminProperties(), TOPIC, r -> true);
    long slotRecords = TopicRecords.count(kafka.adminProperties(), TOPIC, r -> r.key()[0] == 1);
    assertThat(json.get("records").asLong()).isEqualTo(records);
    assertThat(json.get("slotRecords").asLong() + json.get("tombstoneRecords").asLong())
        .isEqualTo(slotRecords);
    assertThat(json.get("undecodableRecords").asLong()).isZero();
    assertThat(json.get("liveSessions").asLong()).isEqualTo(7);
    assertThat(json.get("endedSessions").asLong()).isEqualTo(1);
    // node-2's stash of s-1 superseded its claim; s-4's end superseded node-1's stash of it; the
    // second and third node republished the schemas to every partition.
    assertThat(json.get("supersededRecords").asLong()).isGreaterThanOrEqualTo(2 + 2 * 2 * 3);
    // s-4 ended just now: its last record is due a tombstone only once the ended-retention passed.
    var now = onTopic("stats", "--ended-retention", "0s", "-o", "json").json();
    assertThat(now.get("tombstonesDue").asLong()).isEqualTo(json.get("tombstonesDue").asLong() + 1);
    assertThat(json.get("reclaimableRecords").asLong())
        .isGreaterThanOrEqualTo(json.get("supersededRecords").asLong());

    var table = onTopic("stats");
    assertThat(table.exitCode()).isZero();
    assertThat(table.out())
        .contains("live sessions", "superseded", "tombstones due", "compaction reclaims")
        .contains(records + " records for 7 live sessions");
  }

  @Test
  void anUnreachableClusterExitsWithThree(@TempDir Path dir) throws Exception {
    int port = FreePorts.onLoopback(1)[0];
    var run = cli("sessions", "--kafka", "127.0.0.1:" + port, "--timeout", "2s", "--topic", TOPIC);
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).contains("is the cluster reachable?");

    var zkRun = cli("members", "--zookeeper", "127.0.0.1:" + port, "--timeout", "1s");
    assertThat(zkRun.exitCode()).isEqualTo(3);
    assertThat(zkRun.err()).contains("could not connect to ZooKeeper");

    Path config = Files.writeString(dir.resolve("client.properties"), "request.timeout.ms=2000\n");
    var withConfig =
        onTopic("sessions", "--command-config", config.toString(), "--owner", "node-2");
    assertThat(withConfig.exitCode()).isZero();
  }

  @Test
  void aBadCommandLineExitsWithTwoAndHelpListsTheExitCodes() {
    assertThat(cli("sessions").exitCode()).isEqualTo(2); // --kafka is required
    assertThat(cli("sessions", "-k", "x:1", "--sort", "color").err()).contains("color");
    assertThat(cli().exitCode()).isEqualTo(2);
    var help = cli("--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("members", "sessions", "show", "topic", "stats", "Exit codes");
  }

  private static Throwable rootCause(Throwable e) {
    while (e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
