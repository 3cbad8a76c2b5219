package org.midimesh.api.devices;

import java.util.List;

import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard listener of the device registry: register it as an OSGi service. Called on the thread that produced the
 * event (an HTTP thread, a driver thread), never under a lock; it must not block.
 */
@ConsumerType
public interface DeviceListener {

    /** A local input produced messages (in order). */
    default void inputProduced(LocalDevice input, List<MidiMessage> messages) {
    }

    /**
     * A local input produced messages (in order) at a time its driver knows. By default the time is ignored.
     *
     * @param timestampMicros microseconds since the epoch, when the device produced them
     */
    default void inputProduced(LocalDevice input, List<MidiMessage> messages, long timestampMicros) {
        inputProduced(input, messages);
    }

    /** The set of local devices changed; {@code devices} is the new snapshot. */
    default void devicesChanged(List<LocalDevice> devices) {
    }
}
