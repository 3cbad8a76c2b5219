/**
 * The MIDI driver SPI: the only MidiMesh package a driver plugin needs.
 * <p>A driver bundle registers one or more {@link org.midimesh.api.driver.MidiDriver} services. The node's device
 * registry binds every driver it sees, gives each port a small device id that stays the same across restarts and
 * redeploys for the same driver name, direction and port name, and wires the port into the mesh: an input's messages
 * go along the routes, and messages routed to an output are played on it. Ports may come and go at any time; the
 * driver tells its {@link org.midimesh.api.driver.PortListener}s, and the registry then re-reads the whole
 * {@link org.midimesh.api.driver.MidiDriver#ports() port list}, so events that arrive late, twice or out of order do
 * no harm. Stopping the bundle removes its devices; routes that use them are kept and shown as orphaned until the
 * ports come back under the same names.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>{@code MidiDriver.ports()}, {@code MidiPort.name()}, {@code type()} and {@code availability()} are called from
 *   framework, HTTP and driver threads, never under a MidiMesh lock, and must return at once.</li>
 *   <li>{@code MidiPort.play} is called on the output's own delivery thread, one call at a time per output, in the
 *   order the messages arrived; never on a network receive thread and never under a MidiMesh lock. Each output has its
 *   own bounded queue: while {@code play} runs, later messages wait there, and when it is full they are dropped and
 *   counted ({@code dropped} in {@code /midi/devices}). So a slow or hung output delays neither heartbeats nor other
 *   devices nor other peers. The one exception is a port that implements
 *   {@link org.midimesh.api.driver.ImmediatePlay}, promising that its {@code play} returns at once: it may be played
 *   on the thread that delivers the messages, a network receive thread included, whenever nothing is queued for
 *   it.</li>
 *   <li>{@code InputSink.produced} may be called from any thread, including a driver's own device thread; it does not
 *   block and it never calls back into the port.</li>
 *   <li>A driver calls its {@code PortListener}s on its own thread or on the thread that asked for the change, never
 *   while holding a lock of its own.</li>
 * </ul>
 *
 * <h2>When a driver misbehaves</h2>
 * A driver's failure is the driver's, not the node's. A {@code ports()} that throws or returns null, or ports without a
 * name or type, are logged with the driver's bundle and skipped. A {@code play} that throws is counted and logged, and
 * its device is shown as unavailable (with the error) until a call succeeds. A {@code play} that does not return
 * within the hang limit (1 s by default) marks its device unavailable ("play has not returned for ..."); messages for
 * it are dropped and counted until it returns. The node stays healthy in every case.
 *
 * <h2>Versions</h2>
 * The package follows semantic versioning, checked by the build against the last release (bnd baselining): a driver
 * built against 2.x resolves on every later 2.x.
 */
@Export
@Version("2.1.0")
package org.midimesh.api.driver;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
