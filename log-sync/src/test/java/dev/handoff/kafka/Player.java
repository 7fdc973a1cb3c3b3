package dev.handoff.kafka;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecordBase;

/** A hand-written stand-in for an Avro-generated class (version 1 of the player state). */
public class Player extends SpecificRecordBase {
  public static final Schema SCHEMA$ =
      new Schema.Parser()
          .parse(
              """
              {"type": "record", "name": "Player", "namespace": "dev.handoff.kafka",
               "fields": [
                 {"name": "name", "type": {"type": "string", "avro.java.string": "String"}},
                 {"name": "score", "type": "int"}
               ]}
              """);

  private String name;
  private int score;

  public Player() {}

  public Player(String name, int score) {
    this.name = name;
    this.score = score;
  }

  public String name() {
    return name;
  }

  public int score() {
    return score;
  }

  @Override
  public Schema getSchema() {
    return SCHEMA$;
  }

  @Override
  public Object get(int field) {
    return switch (field) {
      case 0 -> name;
      case 1 -> score;
      default -> throw new IndexOutOfBoundsException(field);
    };
  }

  @Override
  public void put(int field, Object value) {
    switch (field) {
      case 0 -> name = value.toString();
      case 1 -> score = (Integer) value;
      default -> throw new IndexOutOfBoundsException(field);
    }
  }
}
