package dev.handoff.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The orchestrator's timeline of every session: which node incarnation hosted it from when to when
 * (stints), which ticks were acknowledged when, and per-node counters for the live display. Fed by
 * the nodes' reader threads; every method is synchronized.
 *
 * <p>The verdict is computed from timestamps, not from the order lines arrive in, so the readers of
 * different nodes may lag each other freely.
 */
final class Ledger {

  /** One incarnation hosting one session, from its first tick to its last. */
  private static final class Stint {
    final Incarnation host;
    final long start;
    final long fromTick;
    final boolean pickedUp;
    final int levelRead;
    long end = Long.MAX_VALUE;
    long endTick = -1;
    boolean stoppedCleanly;

    Stint(Incarnation host, long start, long fromTick, boolean pickedUp, int levelRead) {
      this.host = host;
      this.start = start;
      this.fromTick = fromTick;
      this.pickedUp = pickedUp;
      this.levelRead = levelRead;
    }

    boolean overlaps(Stint o) {
      return start < o.end && o.start < end;
    }
  }

  /** Everything known about one session. */
  private static final class Track {
    final List<Stint> stints = new ArrayList<>(3);
    long[] ackTick = new long[16];
    long[] ackMicros = new long[16];
    int acks;
    int open;

    void ack(long tick, long micros) {
      if (acks == ackTick.length) {
        ackTick = Arrays.copyOf(ackTick, acks * 2);
        ackMicros = Arrays.copyOf(ackMicros, acks * 2);
      }
      ackTick[acks] = tick;
      ackMicros[acks] = micros;
      acks++;
    }

    /** The highest tick acknowledged before {@code micros}, or -1. */
    long maxAckBefore(long micros) {
      long max = -1;
      for (int i = 0; i < acks; i++) {
        if (ackMicros[i] < micros) {
          max = Math.max(max, ackTick[i]);
        }
      }
      return max;
    }

    /**
     * When the first stash of {@code tick} or a later tick was acknowledged, or -1 if none was: the
     * moment the state at {@code tick} (or newer) became durable.
     */
    long firstAckAtOrAfter(long tick) {
      long first = -1;
      for (int i = 0; i < acks; i++) {
        if (ackTick[i] >= tick && (first < 0 || ackMicros[i] < first)) {
          first = ackMicros[i];
        }
      }
      return first;
    }

    /** When the stash of {@code tick} was acknowledged, or -1. */
    long ackedAt(long tick) {
      for (int i = 0; i < acks; i++) {
        if (ackTick[i] == tick) {
          return ackMicros[i];
        }
      }
      return -1;
    }
  }

  /** Counters of one node incarnation. */
  static final class HostCounters {
    int hosting;
    int created;
    int pickups;
    int stops;
    int finalAcks;
    long acks;
    long nacks;
    long lastPickupMicros;
    long firstStopMicros;
    long exitedMicros;
    long goneSeenMicros;
    NodeMessage.Adopted adopted;
    int hostingAtSignal = -1;
    String mode;
    // Sessions of this incarnation another one took over after it, and when the last one resumed.
    int handedOn;
    long lastHandedOnMicros;
    NodeMessage.Stats stats;
    NodeMessage.Meters meters;
    NodeMessage.Stashed stashed;
    final Map<String, Long> awaitingFinalAck = new HashMap<>();
  }

  /**
   * What the live display shows: sessions hosted; stash acks so far; of the node being replaced,
   * sessions it hosted, final stashes acknowledged, sessions stopped, and sessions resumed
   * elsewhere.
   */
  record Progress(int hosted, long acks, int oldHosting, int stashed, int stopped, int resumed) {}

  private final int total;
  private final Map<String, Track> tracks = new LinkedHashMap<>();
  private final Map<Incarnation, HostCounters> hosts = new LinkedHashMap<>();
  private final List<String> pickupFailures = new ArrayList<>();
  private final List<String> stashFailureSamples = new ArrayList<>();
  private int hosted;
  private long acks;
  private long nacks;
  private boolean frozen;

  Ledger(int sessions) {
    this.total = sessions;
    for (int j = 1; j <= sessions; j++) {
      tracks.put(NodeSettings.sessionId(j, sessions), new Track());
    }
  }

  synchronized void accept(Incarnation p, NodeMessage m) {
    if (frozen) {
      return; // the run is over: what the nodes do while they all stop is not part of it
    }
    HostCounters c = hosts.computeIfAbsent(p, k -> new HostCounters());
    if (m instanceof NodeMessage.Hosting h) {
      Track t = track(h.session());
      var stint = new Stint(p, h.micros(), h.fromTick(), h.pickedUp(), h.levelRead());
      Stint before = h.pickedUp() ? previous(t.stints, stint) : null;
      if (before != null && before.host != p) {
        HostCounters b = hosts.computeIfAbsent(before.host, k -> new HostCounters());
        b.handedOn++;
        b.lastHandedOnMicros = Math.max(b.lastHandedOnMicros, h.micros());
      }
      t.stints.add(stint);
      if (t.open++ == 0) {
        hosted++;
      }
      c.hosting++;
      if (h.pickedUp()) {
        c.pickups++;
        c.lastPickupMicros = Math.max(c.lastPickupMicros, h.micros());
      } else {
        c.created++;
      }
    } else if (m instanceof NodeMessage.Stopped s) {
      Track t = track(s.session());
      for (Stint st : t.stints) {
        if (st.host == p && st.end == Long.MAX_VALUE) {
          st.end = s.micros();
          st.endTick = s.tick();
          st.stoppedCleanly = true;
          close(t);
          c.hosting--;
        }
      }
      c.stops++;
      if (c.firstStopMicros == 0 || s.micros() < c.firstStopMicros) {
        c.firstStopMicros = s.micros();
      }
      c.awaitingFinalAck.put(s.session(), s.tick());
    } else if (m instanceof NodeMessage.Acked a) {
      track(a.session()).ack(a.tick(), a.micros());
      acks++;
      c.acks++;
      Long stopTick = c.awaitingFinalAck.get(a.session());
      if (stopTick != null && a.tick() >= stopTick) {
        c.awaitingFinalAck.remove(a.session());
        c.finalAcks++;
      }
    } else if (m instanceof NodeMessage.StashFailed f) {
      nacks++;
      c.nacks++;
      if (stashFailureSamples.size() < 5) {
        stashFailureSamples.add(p.writerId() + " " + f.session() + ": " + f.error());
      }
    } else if (m instanceof NodeMessage.PickupFailed f) {
      pickupFailures.add(p.writerId() + " " + f.session() + ": " + f.error());
    } else if (m instanceof NodeMessage.Adopted a) {
      c.adopted = a;
      if (a.failed() > 0) {
        pickupFailures.add(p.writerId() + ": " + a.failed() + " sessions could not be adopted");
      }
    } else if (m instanceof NodeMessage.Gone g) {
      c.goneSeenMicros = g.micros();
    } else if (m instanceof NodeMessage.Stats s) {
      c.stats = s;
    } else if (m instanceof NodeMessage.Meters x) {
      c.meters = x;
    } else if (m instanceof NodeMessage.Stashed s) {
      c.stashed = s;
    }
  }

  /** The process exited at {@code micros}: whatever it still hosted ends there. */
  synchronized void exited(Incarnation p, long micros) {
    HostCounters c = hosts.computeIfAbsent(p, k -> new HostCounters());
    c.exitedMicros = micros;
    for (Track t : tracks.values()) {
      for (Stint st : t.stints) {
        if (st.host == p && st.end == Long.MAX_VALUE) {
          st.end = micros;
          close(t);
          c.hosting--;
        }
      }
    }
  }

  /** Remembers how many sessions {@code p} hosted when it was signalled. */
  synchronized void signalled(Incarnation p) {
    signalled(p, null);
  }

  /**
   * Remembers how many sessions {@code p} hosted when it was signalled, and how it is being
   * replaced ({@code drain}, {@code restart} or {@code crash}; null if it is not rolled).
   */
  synchronized void signalled(Incarnation p, String mode) {
    HostCounters c = hosts.computeIfAbsent(p, k -> new HostCounters());
    c.hostingAtSignal = c.hosting;
    c.mode = mode;
  }

  /**
   * The roll is over: later messages (the nodes' own moves while they all stop) are ignored, and
   * what is still hosted stays hosted for the verdict.
   */
  synchronized void freeze() {
    frozen = true;
  }

  private void close(Track t) {
    if (--t.open == 0) {
      hosted--;
    }
  }

  private Track track(String session) {
    Track t = tracks.get(session);
    if (t == null) {
      throw new IllegalStateException("a node reported unknown session " + session);
    }
    return t;
  }

  synchronized int hosted() {
    return hosted;
  }

  synchronized int hosting(Incarnation p) {
    HostCounters c = hosts.get(p);
    return c == null ? 0 : c.hosting;
  }

  synchronized int pickups(Incarnation p) {
    HostCounters c = hosts.get(p);
    return c == null ? 0 : c.pickups;
  }

  /** Sessions {@code p} hosted when it was signalled (0 if it was not). */
  synchronized int hostingAtSignal(Incarnation p) {
    HostCounters c = hosts.get(p);
    return c == null ? 0 : Math.max(0, c.hostingAtSignal);
  }

  /** Sessions of {@code p} that another incarnation resumed after it. */
  synchronized int handedOn(Incarnation p) {
    HostCounters c = hosts.get(p);
    return c == null ? 0 : c.handedOn;
  }

  /** True once every session has an acknowledged stash past its creation. */
  synchronized boolean everySessionStashedPeriodically() {
    for (Track t : tracks.values()) {
      if (t.maxAckBefore(Long.MAX_VALUE) < 1) {
        return false;
      }
    }
    return true;
  }

  synchronized Progress progress(Incarnation old, Incarnation replacement) {
    HostCounters o = old == null ? null : hosts.get(old);
    HostCounters r = replacement == null ? null : hosts.get(replacement);
    return new Progress(
        hosted,
        acks,
        o == null ? 0 : Math.max(o.hostingAtSignal, o.hosting),
        o == null ? 0 : o.finalAcks,
        o == null ? 0 : o.stops,
        o == null ? 0 : o.handedOn);
  }

  synchronized List<String> pickupFailures() {
    return List.copyOf(pickupFailures);
  }

  synchronized List<String> stashFailureSamples() {
    return List.copyOf(stashFailureSamples);
  }

  /**
   * A replaced node: old and new incarnation (the surge node of a drain, the successor of a restart
   * or crash) and how ({@code drain}, {@code restart} or {@code crash}), for the per-node rows.
   */
  record Replacement(Incarnation old, Incarnation replacement, String mode) {
    Replacement(Incarnation old, Incarnation replacement) {
      this(old, replacement, "SIGKILL".equals(old.signal()) ? "crash" : "restart");
    }
  }

  /**
   * Computes the report. {@code hostedAtEnd} maps each session to the incarnations that said they
   * host it when asked at the end of the run.
   */
  synchronized Report report(
      String scenario,
      Map<String, List<String>> hostedAtEnd,
      List<Replacement> replacements,
      java.time.Duration elapsed) {
    int handedOff = 0;
    int stale = 0;
    int v1ToV2 = 0;
    int levelDefaulted = 0;
    int crashResumed = 0;
    var pauses = new ArrayList<Double>();
    var toDurable = new ArrayList<Double>();
    var durableToResumed = new ArrayList<Double>();
    var crashAges = new ArrayList<Double>();
    var pausesByMode = new LinkedHashMap<String, List<Double>>();
    for (String mode : List.of("drain", "restart", "crash")) {
      pausesByMode.put(mode, new ArrayList<>());
    }
    var pausesByHost = new HashMap<Incarnation, List<Double>>();
    var modeOf = new HashMap<Incarnation, String>();
    hosts.forEach((p, c) -> modeOf.put(p, c.mode));
    replacements.forEach(r -> modeOf.put(r.old(), r.mode()));
    Set<String> duplicated = new HashSet<>();
    Set<String> lost = new HashSet<>();
    var crashed = new java.util.TreeSet<String>();

    for (var e : tracks.entrySet()) {
      String session = e.getKey();
      Track t = e.getValue();
      List<Stint> stints = t.stints;
      for (int i = 0; i < stints.size(); i++) {
        for (int k = i + 1; k < stints.size(); k++) {
          if (stints.get(i).host != stints.get(k).host && stints.get(i).overlaps(stints.get(k))) {
            duplicated.add(session);
          }
        }
      }
      boolean pickedUpOnce = false;
      for (Stint s : stints) {
        Stint before = previous(stints, s);
        if (!s.pickedUp) {
          if (before != null) {
            lost.add(session); // its state was gone: a node had to create it again
          }
          continue;
        }
        pickedUpOnce = true;
        if (s.fromTick < t.maxAckBefore(s.start)) {
          stale++;
        }
        if (before == null) {
          continue;
        }
        if (before.end != Long.MAX_VALUE && before.end <= s.start) {
          double pause = (s.start - before.end) / 1000.0;
          pauses.add(pause);
          pausesByHost.computeIfAbsent(before.host, k -> new ArrayList<>()).add(pause);
          String mode = modeOf.get(before.host);
          if (mode != null) {
            pausesByMode.computeIfAbsent(mode, k -> new ArrayList<>()).add(pause);
          }
          long acked = t.firstAckAtOrAfter(before.endTick);
          boolean stashed = !"drain".equals(mode);
          if (stashed && before.stoppedCleanly && acked >= 0) {
            // The pause of a stashed session in two: until the stopped state was durable (0 if a
            // periodic stash of that tick had already been acknowledged), and from then until the
            // successor's first tick (the remaining stashes and leave, the successor's adoption).
            long durable = Math.max(before.end, acked);
            if (durable <= s.start) {
              toDurable.add((durable - before.end) / 1000.0);
              durableToResumed.add((s.start - durable) / 1000.0);
            }
          }
        }
        if (before.host.version().equals(GameSchemas.V1)
            && s.host.version().equals(GameSchemas.V2)) {
          v1ToV2++;
          if (s.levelRead == 1) {
            levelDefaulted++;
          }
        }
        if (!before.stoppedCleanly && "SIGKILL".equals(before.host.signal())) {
          crashed.add(before.host.memberId());
          crashResumed++;
          long ackedAt = t.ackedAt(s.fromTick);
          if (ackedAt > 0) {
            crashAges.add((before.end - ackedAt) / 1000.0);
          }
        }
      }
      if (pickedUpOnce) {
        handedOff++;
      }
      List<String> at = hostedAtEnd.getOrDefault(session, List.of());
      if (at.isEmpty()) {
        lost.add(session);
      } else if (at.size() > 1) {
        duplicated.add(session);
      }
    }

    long peeks = 0;
    long decodeErrors = 0;
    for (HostCounters c : hosts.values()) {
      if (c.stats != null) {
        peeks += c.stats.peeks();
        decodeErrors += c.stats.decodeErrors();
      }
    }
    long meteredStashes = 0;
    long meteredPickups = 0;
    double stashMillis = 0;
    double pickupMillis = 0;
    long fenced = 0;
    long skipped = 0;
    for (HostCounters c : hosts.values()) {
      if (c.meters != null) {
        meteredStashes += c.meters.stashes();
        stashMillis += c.meters.stashes() * c.meters.stashMeanMs();
        meteredPickups += c.meters.pickups();
        pickupMillis += c.meters.pickups() * c.meters.pickupMeanMs();
        fenced += c.meters.fenced();
        skipped += c.meters.skipped();
      }
    }
    var meters =
        new Report.Meters(
            meteredStashes,
            meteredStashes == 0 ? 0 : stashMillis / meteredStashes,
            meteredPickups,
            meteredPickups == 0 ? 0 : pickupMillis / meteredPickups,
            fenced,
            skipped);
    var rolls = new ArrayList<Report.Roll>();
    for (Replacement r : replacements) {
      HostCounters o = hosts.getOrDefault(r.old(), new HostCounters());
      HostCounters n = hosts.getOrDefault(r.replacement(), new HostCounters());
      long signalled = r.old().signalledMicros();
      // The predecessor is gone once its process exited, or (after a crash) once its successor
      // saw its membership expire, whichever is later.
      long gone = Math.max(o.exitedMicros, n.goneSeenMicros);
      long ready = r.replacement().readyMicros();
      long resumedAfterReady =
          r.mode().equals("drain") || o.lastHandedOnMicros == 0 || ready == 0 || gone == 0
              ? -1
              : Math.max(0, o.lastHandedOnMicros - Math.max(ready, gone)) / 1000;
      rolls.add(
          new Report.Roll(
              r.old().memberId(),
              r.mode(),
              r.old().writerId(),
              r.replacement().writerId(),
              r.old().signal() == null ? "-" : r.old().signal(),
              Math.max(0, o.hostingAtSignal),
              o.finalAcks,
              o.handedOn,
              sinceSignal(r.old(), o.lastHandedOnMicros),
              r.replacement().startMillis(),
              o.firstStopMicros == 0 || signalled == 0
                  ? -1
                  : (o.firstStopMicros - signalled) / 1000,
              o.stashed == null ? -1 : o.stashed.millis(),
              sinceSignal(r.old(), o.exitedMicros),
              sinceSignal(r.old(), n.goneSeenMicros),
              resumedAfterReady,
              percentiles(pausesByHost.getOrDefault(r.old(), List.of()))));
    }
    var byMode = new LinkedHashMap<String, Report.Percentiles>();
    pausesByMode.forEach(
        (mode, values) -> {
          if (!values.isEmpty()) {
            byMode.put(mode, percentiles(values));
          }
        });
    return new Report(
        scenario,
        total,
        handedOff,
        lost.size(),
        stale,
        duplicated.size(),
        percentiles(pauses),
        byMode,
        percentiles(toDurable),
        percentiles(durableToResumed),
        v1ToV2,
        levelDefaulted,
        acks,
        nacks,
        peeks,
        decodeErrors,
        pickupFailures.size(),
        crashed.isEmpty() ? null : String.join(", ", crashed),
        crashResumed,
        percentiles(crashAges),
        rolls,
        elapsed,
        meters);
  }

  private static Report.Percentiles percentiles(List<Double> values) {
    return Report.Percentiles.of(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** Milliseconds from {@code p}'s signal to {@code micros}, or -1 if either is unknown. */
  private static long sinceSignal(Incarnation p, long micros) {
    return micros == 0 || p.signalledMicros() == 0 ? -1 : (micros - p.signalledMicros()) / 1000;
  }

  /** The stint that ended last among those that started before {@code s}. */
  private static Stint previous(List<Stint> stints, Stint s) {
    Stint best = null;
    for (Stint o : stints) {
      if (o != s && o.start < s.start && (best == null || o.end > best.end)) {
        best = o;
      }
    }
    return best;
  }
}
