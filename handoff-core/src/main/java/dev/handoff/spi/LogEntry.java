package dev.handoff.spi;

/**
 * A record as read back from the log, with where it sits. Offsets are per partition; every record
 * of one session is in one partition, so offsets of one session are totally ordered.
 */
public record LogEntry(SlotRecord record, int partition, long offset) {}
