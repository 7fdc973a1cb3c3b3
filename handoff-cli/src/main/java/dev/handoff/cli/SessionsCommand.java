package dev.handoff.cli;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code sessions}: every session in the topic with its owner, as every node reads it. */
@Command(
    name = "sessions",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the sessions stored in the topic, read to its end: session, owner (memberId#epoch),"
          + " ownership epoch, state size in bytes, and the time of the winning write (the"
          + " record's Kafka timestamp). The owner is decided by the same rule the library uses."
    })
final class SessionsCommand implements Callable<Integer> {

  /** Sort orders. */
  enum Sort {
    SESSION,
    SIZE,
    LAST_WRITE,
    OWNER;

    /** Reads {@code session}, {@code size}, {@code last-write} or {@code owner}. */
    static final class Converter implements ITypeConverter<Sort> {
      @Override
      public Sort convert(String value) {
        try {
          return Sort.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
          throw new TypeConversionException(
              "'" + value + "' is not one of session, size, last-write, owner");
        }
      }
    }
  }

  @Mixin KafkaOptions kafka;
  @Mixin OutputOptions output;
  @Spec CommandSpec spec;

  @Option(
      names = "--owner",
      paramLabel = "member",
      description =
          "Only sessions owned by this member (any incarnation), or by this writer (memberId#epoch).")
  String owner;

  @Option(
      names = "--sort",
      paramLabel = "session|size|last-write|owner",
      defaultValue = "session",
      converter = Sort.Converter.class,
      description =
          "Order: by session key (default), size (largest first), last-write (newest first) or"
              + " owner.")
  Sort sort;

  @Option(
      names = "--limit",
      paramLabel = "n",
      description = "Print at most n sessions (after sorting).")
  Integer limit;

  @Option(
      names = "--ended",
      description = "Also list ended sessions (they read as absent until their tombstones).")
  boolean ended;

  @Override
  public Integer call() {
    if (limit != null && limit < 0) {
      throw new CliException(HandoffCli.USAGE, "--limit must not be negative, was " + limit);
    }
    List<TopicSnapshot.Session> shown;
    int total;
    try (var snapshot = kafka.snapshot()) {
      var sessions = snapshot.sessions().stream().filter(s -> ended || !s.ended()).toList();
      total = sessions.size();
      var selected =
          sessions.stream()
              .filter(s -> owner == null || s.owner().equals(owner) || s.memberId().equals(owner))
              .sorted(order())
              .toList();
      shown = limit == null ? selected : selected.stream().limit(limit).toList();
    }
    var out = spec.commandLine().getOut();
    if (output.json()) {
      var array = Json.array();
      for (var s : shown) {
        array
            .addObject()
            .put("session", s.session())
            .put("owner", s.owner())
            .put("member", s.memberId())
            .put("epoch", s.epoch())
            .put("sizeBytes", s.size())
            .put("lastWrite", Instant.ofEpochMilli(s.timestamp()).toString())
            .put("ended", s.ended())
            .put("partition", s.partition())
            .put("offset", s.offset());
      }
      Json.print(out, array);
      return HandoffCli.OK;
    }
    var table =
        ended
            ? new Table("SESSION", "OWNER", "EPOCH", "SIZE", "LAST WRITE", "STATE")
            : new Table("SESSION", "OWNER", "EPOCH", "SIZE", "LAST WRITE");
    for (var s : shown) {
      var when = Instant.ofEpochMilli(s.timestamp());
      if (ended) {
        table.row(s.session(), s.owner(), s.epoch(), s.size(), when, s.ended() ? "ended" : "live");
      } else {
        table.row(s.session(), s.owner(), s.epoch(), s.size(), when);
      }
    }
    table.print(out);
    out.println(
        shown.size()
            + " of "
            + total
            + (ended ? " sessions" : " live sessions")
            + (owner == null ? "" : " (owner " + owner + ")")
            + " in topic '"
            + kafka.topic
            + "'");
    return HandoffCli.OK;
  }

  private Comparator<TopicSnapshot.Session> order() {
    Comparator<TopicSnapshot.Session> byKey = Comparator.comparing(TopicSnapshot.Session::session);
    return switch (sort) {
      case SESSION -> byKey;
      case SIZE ->
          Comparator.comparingInt(TopicSnapshot.Session::size).reversed().thenComparing(byKey);
      case LAST_WRITE ->
          Comparator.comparingLong(TopicSnapshot.Session::timestamp)
              .reversed()
              .thenComparing(byKey);
      case OWNER -> Comparator.comparing(TopicSnapshot.Session::owner).thenComparing(byKey);
    };
  }
}
