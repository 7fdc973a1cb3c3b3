/**
 * Micrometer metrics for Handoff: {@link dev.handoff.micrometer.HandoffMetrics} for a {@code
 * StateHandoff} node (operation timers by outcome, node, replica and membership gauges) and {@link
 * dev.handoff.micrometer.KafkaDeltaLogMetrics} for a {@code KafkaDeltaLog} (reader counters and the
 * Kafka clients' metrics).
 */
package dev.handoff.micrometer;
