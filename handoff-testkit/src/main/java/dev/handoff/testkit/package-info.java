/**
 * Real Kafka and ZooKeeper for Handoff's tests, with the faults those tests inject.
 *
 * <ul>
 *   <li>{@link dev.handoff.testkit.EmbeddedZooKeeper}: a standalone server or an ensemble in this
 *       JVM; stop/restart a server; expire a session on the server side.
 *   <li>{@link dev.handoff.testkit.EmbeddedKafka}: one or more KRaft brokers in this JVM;
 *       stop/start a broker; fast log compaction for compacted-topic tests.
 *   <li>{@link dev.handoff.testkit.KafkaBrokerProcess}: one broker in its own JVM, for {@code kill
 *       -9} and cold restarts.
 *   <li>{@link dev.handoff.testkit.JvmProcess}: a child JVM (the launcher behind the broker
 *       process, the cluster harness's process nodes and the demo's nodes): readiness, input lines,
 *       signals.
 *   <li>{@link dev.handoff.testkit.HandoffEnvironment}: what a test needs to know and do, whatever
 *       runs the servers; {@link dev.handoff.testkit.EmbeddedEnvironment} implements it.
 *   <li>{@link dev.handoff.testkit.HandoffTest}: one annotation gives a JUnit 5 test class a
 *       running environment, injected as a parameter.
 * </ul>
 *
 * <p>Everything binds to 127.0.0.1 on free ports and keeps its data under {@code java.io.tmpdir}
 * (target/tmp in this project's builds) unless told otherwise; {@code close()} removes it.
 */
package dev.handoff.testkit;
