package dev.handoff.bench;

/**
 * One line of the results table: Handoff's number next to the baseline measured in the same run.
 *
 * @param scenario the item, e.g. "1 Replay"
 * @param measure what is measured, with its unit
 * @param handoff Handoff's value
 * @param baseline what Handoff is compared with; empty if nothing
 * @param baselineValue the baseline's value, NaN if none
 * @param ratio how Handoff compares with the baseline, NaN if no baseline
 * @param ratioUnit "×" for a ratio, " ms" for a difference (Handoff minus baseline)
 * @param target the target, empty if none
 * @param met whether the target is met; null if there is no target
 * @param id a stable name for tools that read the JSON ({@code rolling.drain.pause_p99_ms}); null
 *     for figures that have none yet
 */
public record Figure(
    String scenario,
    String measure,
    double handoff,
    String baseline,
    double baselineValue,
    double ratio,
    String ratioUnit,
    String target,
    Boolean met,
    String id) {

  Figure(
      String scenario,
      String measure,
      double handoff,
      String baseline,
      double baselineValue,
      double ratio,
      String ratioUnit,
      String target,
      Boolean met) {
    this(scenario, measure, handoff, baseline, baselineValue, ratio, ratioUnit, target, met, null);
  }

  /** This figure under the stable id {@code id}. */
  Figure withId(String id) {
    return new Figure(
        scenario, measure, handoff, baseline, baselineValue, ratio, ratioUnit, target, met, id);
  }

  /** A figure with a target: {@code met} says whether {@code handoff} meets it. */
  static Figure target(
      String scenario, String measure, double handoff, String target, boolean met) {
    return new Figure(scenario, measure, handoff, "", Double.NaN, Double.NaN, "", target, met);
  }

  static Figure plain(String scenario, String measure, double handoff) {
    return new Figure(scenario, measure, handoff, "", Double.NaN, Double.NaN, "", "", null);
  }

  /** Handoff against a baseline; the ratio is handoff / baseline unless given. */
  static Figure versus(
      String scenario,
      String measure,
      double handoff,
      String baseline,
      double baselineValue,
      double ratio,
      String target,
      Boolean met) {
    return new Figure(scenario, measure, handoff, baseline, baselineValue, ratio, "×", target, met);
  }

  /** A latency against a baseline; the comparison is the difference in ms. */
  static Figure difference(
      String scenario,
      String measure,
      double handoff,
      String baseline,
      double baselineValue,
      String target,
      Boolean met) {
    return new Figure(
        scenario,
        measure,
        handoff,
        baseline,
        baselineValue,
        handoff - baselineValue,
        " ms",
        target,
        met);
  }
}
