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
 * @param id a stable name for tools reading the JSON (the measure's text may change); empty if the
 *     row has none
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

  static Figure plain(String scenario, String measure, double handoff) {
    return new Figure(scenario, measure, handoff, "", Double.NaN, Double.NaN, "", "", null, "");
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
    return new Figure(
        scenario, measure, handoff, baseline, baselineValue, ratio, "×", target, met, "");
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
        met,
        "");
  }

  /** This figure with a stable id for the JSON. */
  Figure withId(String newId) {
    return new Figure(
        scenario, measure, handoff, baseline, baselineValue, ratio, ratioUnit, target, met, newId);
  }
}
