package org.midimesh.api.driver;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A source of MIDI ports, registered as an OSGi service by a driver bundle. Its ports may come and go at any time; it
 * tells its {@link PortListener}s when they do. Thread-safe.
 * <p>Threads: MidiMesh calls {@link #ports()} and the listener methods from framework, HTTP and driver threads, never
 * while holding a MidiMesh lock. The driver calls its listeners on a thread of its own (or the caller's, for a change
 * the caller asked for), never while holding a lock of its own. See the package documentation for the full contract.
 */
@ConsumerType
public interface MidiDriver {

    /**
     * Short lower-case name, for example {@code virtual} or {@code javasound}: letters, digits, {@code -} and
     * {@code .}. Unique among the drivers of a node; device ids are keyed on it, so it must not change between
     * releases of the driver.
     */
    String name();

    /**
     * The ports the driver offers now: an immutable snapshot, each port once. Must return quickly and never block on
     * I/O; a driver that must probe hardware does so on its own thread and lists what it found.
     */
    List<MidiPort> ports();

    /** Adds a listener told of every later change of {@link #ports()}; adding one twice has no effect. */
    void addPortListener(PortListener listener);

    void removePortListener(PortListener listener);
}
