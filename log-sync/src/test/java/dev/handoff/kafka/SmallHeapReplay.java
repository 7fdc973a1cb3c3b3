package dev.handoff.kafka;

import dev.handoff.spi.LogEntry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A JVM that replays a topic into a map of every slot's state, as a node's replica would, and says
 * on standard output how it ended: {@code READY <slots>} or {@code FAILED <message>} (then exits
 * 1). Run by {@link HeapFitOnKafkaTest} with a small {@code -Xmx}.
 */
public final class SmallHeapReplay {
  private SmallHeapReplay() {}

  public static void main(String[] args) {
    PrintStream out = System.out;
    System.setOut(System.err);
    Map<String, byte[]> slots = new HashMap<>();
    try (var log =
        KafkaDeltaLog.builder()
            .bootstrapServers(args[0])
            .topic(args[1])
            .replicationFactor(1)
            .requestTimeout(Duration.ofSeconds(20))
            .build()) {
      log.start(
              (LogEntry e) -> {
                String slot = e.record().session() + "/" + e.record().writer();
                if (e.record().isTombstone()) {
                  slots.remove(slot);
                } else {
                  slots.put(slot, e.record().state().value());
                }
              })
          .get(120, TimeUnit.SECONDS);
      synchronized (slots) {
        out.println("READY " + slots.size());
      }
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      out.println("FAILED " + cause.getMessage());
      out.flush();
      System.exit(1);
    } catch (OutOfMemoryError e) {
      out.println("OOM " + e.getMessage());
      out.flush();
      System.exit(3);
    }
    out.flush();
  }
}
