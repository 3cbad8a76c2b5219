package org.midimesh.api.driver;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * An output port that promises its {@link MidiPort#play play} returns at once: it never blocks, waits, sleeps or does
 * I/O that can stall, and it takes microseconds, not milliseconds. Such a port only hands the messages to something
 * that cannot make it wait: a lock-free log, a ring, a counter. A port that is not sure must not implement it; a port
 * that talks to hardware usually is not sure.
 * <p>What MidiMesh does with the promise: when nothing is queued for the port, it calls {@code play} on the thread
 * that delivers the messages (a network receive thread, a strategy's stage, an HTTP thread, a local input's thread)
 * instead of handing them to the output's delivery thread. That saves a thread wake-up per message, which on a busy
 * machine is most of the path's latency and jitter (docs/benchmarks.md). The rest of the contract holds as for every
 * port: one call at a time per port, in the order the messages arrived, never under a MidiMesh lock; while a call runs,
 * later messages wait in the port's queue and the delivery thread plays them.
 * <p>A broken promise is noticed. The first call that takes longer than the inline limit (5 ms by default) ends
 * inline delivery for that port, with a warning naming the driver; from then on the port is played from its delivery
 * thread like any other. But a call that never returns holds the thread that made it: on a receive thread, every peer
 * of the node stops being heard. The hang watchdog still marks the device unavailable and logs which thread is held.
 */
@ConsumerType
public interface ImmediatePlay extends MidiPort {
}
