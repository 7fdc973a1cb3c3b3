package dev.handoff.spi;

/** Where an appended record landed: known once the log acknowledged it. */
public record LogPosition(int partition, long offset) {}
