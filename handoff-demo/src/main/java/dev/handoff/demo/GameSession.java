package dev.handoff.demo;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * One running game: players moving on a 100 × 100 board, a score, and a tick counter that the
 * hosting node advances on its timer. Mutable; confined to the hosting node's ticker thread.
 */
final class GameSession {
  static final int BOARD = 100;
  static final int PLAYERS = 4;

  /**
   * Bytes of a state with no padding, roughly; used to size the padding for {@code --state-size}.
   */
  private static final int BASE_BYTES = 80;

  private final String id;
  private long tick;
  private long score;
  private final int[] x = new int[PLAYERS];
  private final int[] y = new int[PLAYERS];
  private final String[] names = new String[PLAYERS];
  private final byte[] padding;

  /** The v2 field; 0 while the session is hosted by a v1 node, which does not know levels. */
  private int level;

  private GameSession(String id, byte[] padding) {
    this.id = id;
    this.padding = padding;
  }

  /** A new game at tick 0 whose encoded state is about {@code stateBytes} long. */
  static GameSession create(String id, int stateBytes, boolean knowsLevels) {
    var random = new SplittableRandom(id.hashCode());
    byte[] padding = new byte[Math.max(0, stateBytes - BASE_BYTES)];
    for (int i = 0; i < padding.length; i++) {
      padding[i] = (byte) random.nextInt(256);
    }
    var s = new GameSession(id, padding);
    for (int p = 0; p < PLAYERS; p++) {
      s.names[p] = "player-" + (p + 1);
      s.x[p] = random.nextInt(BOARD);
      s.y[p] = random.nextInt(BOARD);
    }
    s.level = knowsLevels ? 1 : 0;
    return s;
  }

  /** A game resumed from its stashed state, read with this node's schema. */
  static GameSession fromRecord(GenericRecord r) {
    ByteBuffer buf = ((ByteBuffer) r.get("padding")).duplicate();
    byte[] padding = new byte[buf.remaining()];
    buf.get(padding);
    var s = new GameSession(r.get("session").toString(), padding);
    s.tick = (Long) r.get("tick");
    s.score = (Long) r.get("score");
    @SuppressWarnings("unchecked")
    List<GenericRecord> players = (List<GenericRecord>) r.get("players");
    for (int p = 0; p < Math.min(PLAYERS, players.size()); p++) {
      GenericRecord pl = players.get(p);
      s.names[p] = pl.get("name").toString();
      s.x[p] = (Integer) pl.get("x");
      s.y[p] = (Integer) pl.get("y");
    }
    Schema.Field level = r.getSchema().getField("level");
    s.level = level == null ? 0 : (Integer) r.get(level.pos());
    return s;
  }

  /** This state as a record of {@code schema} (v1 drops the level, v2 writes it). */
  GenericRecord toRecord(Schema schema) {
    Schema playerSchema = schema.getField("players").schema().getElementType();
    var players = new ArrayList<GenericRecord>(PLAYERS);
    for (int p = 0; p < PLAYERS; p++) {
      var pl = new GenericData.Record(playerSchema);
      pl.put("name", names[p]);
      pl.put("x", x[p]);
      pl.put("y", y[p]);
      players.add(pl);
    }
    var r = new GenericData.Record(schema);
    r.put("session", id);
    r.put("tick", tick);
    r.put("score", score);
    r.put("players", players);
    r.put("padding", ByteBuffer.wrap(padding));
    if (schema.getField("level") != null) {
      r.put("level", Math.max(1, level));
    }
    return r;
  }

  /**
   * One game tick: every player takes a step, the score moves, and on a v2 node the level rises
   * every 50 ticks. Deterministic in (session, tick), so a resumed game plays on the same way.
   */
  void advance(boolean knowsLevels) {
    tick++;
    long seed = id.hashCode() * 0x9E3779B97F4A7C15L + tick;
    var random = new SplittableRandom(seed);
    for (int p = 0; p < PLAYERS; p++) {
      x[p] = Math.floorMod(x[p] + random.nextInt(3) - 1, BOARD);
      y[p] = Math.floorMod(y[p] + random.nextInt(3) - 1, BOARD);
      if (x[p] == y[p]) {
        score += 10;
      }
    }
    score++;
    if (knowsLevels) {
      if (level == 0) {
        level = 1;
      }
      if (tick % 50 == 0) {
        level++;
      }
    }
  }

  String id() {
    return id;
  }

  long tick() {
    return tick;
  }

  long score() {
    return score;
  }

  int level() {
    return level;
  }
}
