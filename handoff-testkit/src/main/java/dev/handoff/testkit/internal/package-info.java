/**
 * Not API: helpers that {@code dev.handoff.testkit} and {@code dev.handoff.testkit.containers}
 * share (a child-JVM broker main, server-side ZooKeeper session expiry). Public only because two
 * packages use them; they may change in any release and are left out of the javadoc.
 */
package dev.handoff.testkit.internal;
