package dev.handoff.cli;

import dev.handoff.kafka.TopicCheck;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code stats}: records against live sessions, and what compaction would reclaim. */
@Command(
    name = "stats",
    mixinStandardHelpOptions = true,
    description = {
      "Reads the topic to its end and counts records against live sessions: records by kind,"
          + " bytes (keys and values), sessions, superseded records (a later record has the same"
          + " key: compaction removes them), tombstones due (slots that no longer win, and"
          + " sessions ended longer than --ended-retention ago: the nodes write tombstones for"
          + " them at their next sweep), and tombstones past delete.retention.ms."
    })
final class StatsCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;
  @Mixin OutputOptions output;
  @Spec CommandSpec spec;

  @Option(
      names = "--ended-retention",
      paramLabel = "duration",
      defaultValue = "1h",
      converter = DurationConverter.class,
      description =
          "The nodes' StateHandoff endedRetention: how long an ended session keeps its last"
              + " record (default: ${DEFAULT-VALUE}, the library's default).")
  Duration endedRetention;

  @Override
  public Integer call() throws InterruptedException {
    TopicCheck.Report topic;
    try (var admin = kafka.admin()) {
      topic = TopicCheck.check(admin, kafka.topic, kafka.timeout);
    }
    long deleteRetention = parse(topic.configs().get("delete.retention.ms"), 86_400_000L);
    long now = System.currentTimeMillis();
    var out = spec.commandLine().getOut();
    try (var s = kafka.snapshot()) {
      long live = s.sessions().stream().filter(x -> !x.ended()).count();
      long ended = s.sessions().size() - live;
      long liveBytes = s.sessions().stream().filter(x -> !x.ended()).mapToLong(x -> x.size()).sum();
      long[] kept = s.tombstonesKept();
      long[] expired = s.tombstonesExpired(now, deleteRetention);
      long[] due = s.tombstonesDue(now, endedRetention.toMillis());
      long reclaimRecords = s.supersededRecords + expired[0];
      long reclaimBytes = s.supersededBytes + expired[1];
      if (output.json()) {
        var node =
            Json.object()
                .put("topic", kafka.topic)
                .put("partitions", topic.partitions())
                .put("records", s.records)
                .put("bytes", s.bytes)
                .put("slotRecords", s.slotRecords)
                .put("tombstoneRecords", s.tombstoneRecords)
                .put("schemaRecords", s.schemaRecords)
                .put("layoutRecords", s.layoutRecords)
                .put("undecodableRecords", s.undecodableRecords)
                .put("liveSessions", live)
                .put("endedSessions", ended)
                .put("liveStateBytes", liveBytes)
                .put("recordsPerLiveSession", live == 0 ? 0.0 : (double) s.records / live)
                .put("supersededRecords", s.supersededRecords)
                .put("supersededBytes", s.supersededBytes)
                .put("tombstonesKept", kept[0])
                .put("tombstonesPastDeleteRetention", expired[0])
                .put("tombstonesDue", due[0])
                .put("tombstonesDueBytes", due[1])
                .put("reclaimableRecords", reclaimRecords)
                .put("reclaimableBytes", reclaimBytes)
                .put("deleteRetentionMs", deleteRetention)
                .put("endedRetentionMs", endedRetention.toMillis());
        Json.print(out, node);
        return HandoffCli.OK;
      }
      var t = new Table("", "RECORDS", "BYTES", "");
      t.row("in topic", s.records, bytes(s.bytes), topic.partitions() + " partitions");
      t.row("  slot states", s.slotRecords, null, null);
      t.row("  tombstones", s.tombstoneRecords, null, kept[0] + " still the last of their key");
      t.row("  writer schemas", s.schemaRecords, null, s.schemaNames().size() + " distinct");
      t.row("  partition layout", s.layoutRecords, null, null);
      t.row("  undecodable", s.undecodableRecords, null, null);
      t.row("live sessions", live, bytes(liveBytes), "state bytes");
      t.row("ended sessions", ended, null, null);
      t.row(
          "superseded",
          s.supersededRecords,
          bytes(s.supersededBytes),
          "a later record has the same key");
      t.row(
          "tombstones expired",
          expired[0],
          bytes(expired[1]),
          "older than delete.retention.ms=" + deleteRetention);
      t.row("compaction reclaims", reclaimRecords, bytes(reclaimBytes), "at most, now");
      t.row(
          "tombstones due",
          due[0],
          bytes(due[1]),
          "slots the nodes will tombstone at their next sweep");
      t.print(out);
      out.printf(
          Locale.ROOT,
          "%d records for %d live sessions (%.1f per session)%n",
          s.records,
          live,
          live == 0 ? 0.0 : (double) s.records / live);
      return HandoffCli.OK;
    }
  }

  private static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
  }

  private static long parse(String value, long fallback) {
    try {
      return value == null ? fallback : Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
