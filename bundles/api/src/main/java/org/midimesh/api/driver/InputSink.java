package org.midimesh.api.driver;

import java.util.List;

import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Where an input port delivers what it produces. Implemented by MidiMesh. Thread-safe: call it from any thread, as
 * often as the device produces; it does not block (it forwards the messages along the routes and returns), and it
 * never calls back into the port. Do not call it while holding a lock that {@link MidiPort#play} may wait for.
 */
@ProviderType
public interface InputSink {

    /** The messages, in order, produced now. */
    void produced(MidiPort port, List<MidiMessage> messages);

    /**
     * The messages, in order, produced at the given time, for a driver that knows when its device produced them.
     *
     * @param timestampMicros microseconds since the epoch (the clock of {@code received_at_us}), when the device
     *                        produced the messages
     */
    void produced(MidiPort port, List<MidiMessage> messages, long timestampMicros);
}
