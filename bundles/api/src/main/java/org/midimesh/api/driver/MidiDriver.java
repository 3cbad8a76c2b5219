package org.midimesh.api.driver;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A source of MIDI ports, registered as an OSGi service. Thread-safe.
 * <p>The driver calls its {@link PortListener}s on a thread of its own, never while holding a lock.
 */
@ConsumerType
public interface MidiDriver {

    /** Short lower-case name, for example {@code virtual} or {@code javasound}. Unique among drivers. */
    String name();

    /** The ports the driver offers now: an immutable snapshot. */
    List<MidiPort> ports();

    void addPortListener(PortListener listener);

    void removePortListener(PortListener listener);
}
