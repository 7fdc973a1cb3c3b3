package dev.handoff.demo;

import org.apache.avro.Schema;

/**
 * The two versions of the game's state schema. Version 2 adds {@code level} with a default, so a v2
 * node reads a v1 state (level 1) and a v1 node reads a v2 state (level ignored): the Avro schema
 * resolution that {@code AvroStateCodec} does through the topic.
 */
final class GameSchemas {
  static final String V1 = "v1";
  static final String V2 = "v2";

  private static final String PLAYER =
      """
      {"type": "record", "name": "Player", "fields": [
        {"name": "name", "type": "string"},
        {"name": "x", "type": "int"},
        {"name": "y", "type": "int"}
      ]}""";

  private static final String COMMON_FIELDS =
      """
        {"name": "session", "type": "string"},
        {"name": "tick", "type": "long"},
        {"name": "score", "type": "long"},
        {"name": "players", "type": {"type": "array", "items": %s}},
        {"name": "padding", "type": "bytes"}
      """
          .formatted(PLAYER);

  static final Schema GAME_STATE_V1 =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "GameState", "namespace": "dev.handoff.demo", "fields": [
              %s
              ]}"""
                  .formatted(COMMON_FIELDS));

  static final Schema GAME_STATE_V2 =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "GameState", "namespace": "dev.handoff.demo", "fields": [
              %s,
                {"name": "level", "type": "int", "default": 1}
              ]}"""
                  .formatted(COMMON_FIELDS));

  private GameSchemas() {}

  /** The state schema of an application version: {@code v1} or {@code v2}. */
  static Schema forVersion(String version) {
    return switch (version) {
      case V1 -> GAME_STATE_V1;
      case V2 -> GAME_STATE_V2;
      default ->
          throw new IllegalArgumentException("version must be v1 or v2, was '" + version + "'");
    };
  }
}
