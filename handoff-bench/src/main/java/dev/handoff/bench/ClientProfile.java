package dev.handoff.bench;

import java.util.Map;

/**
 * Consumer settings a scenario runs with. Handoff's consumer and the baseline's consumer always get
 * the same ones.
 */
public enum ClientProfile {
  /** Nothing overridden: KafkaDeltaLog's own defaults (Kafka's fetch.max.wait.ms = 500 ms). */
  LIBRARY_DEFAULTS("defaults", "library defaults (fetch.max.wait.ms=500)", Map.of()),
  /** What handoff-testkit-cluster's nodes use. */
  FETCH_WAIT_20("fetch20", "fetch.max.wait.ms=20", Map.of("fetch.max.wait.ms", "20"));

  private final String id;
  private final String label;
  private final Map<String, String> consumerProperties;

  ClientProfile(String id, String label, Map<String, String> consumerProperties) {
    this.id = id;
    this.label = label;
    this.consumerProperties = consumerProperties;
  }

  /** Short name used on the command line and in topic names. */
  public String id() {
    return id;
  }

  /** What the table says. */
  public String label() {
    return label;
  }

  /** Consumer properties on top of the defaults. */
  public Map<String, String> consumerProperties() {
    return consumerProperties;
  }

  static ClientProfile parse(String s) {
    for (ClientProfile p : values()) {
      if (p.id.equals(s)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "--profiles: unknown profile '" + s + "'; known: defaults,fetch20");
  }
}
