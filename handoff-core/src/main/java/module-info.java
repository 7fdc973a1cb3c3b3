/**
 * Handoff's core: the {@code StateHandoff} API and the SPIs that log and membership modules
 * implement. The replicated map's internals ({@code dev.handoff.internal.crdt}) are not exported.
 */
module dev.handoff.core {
  requires org.slf4j;

  exports dev.handoff;
  exports dev.handoff.spi;
}
