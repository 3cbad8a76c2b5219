package org.midimesh.api.driver;

import java.util.List;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One MIDI port of a driver: an input (it produces messages) or an output (it plays them). Thread-safe.
 */
@ConsumerType
public interface MidiPort {

    /** Name, unique within its driver and direction; device ids are keyed on it. */
    String name();

    DeviceType type();

    /**
     * Plays messages on an output, in order. Must not block for long (it runs on the thread that delivers network
     * MIDI). Inputs throw {@link UnsupportedOperationException}.
     *
     * @param source the node whose input produced the messages
     */
    void play(List<MidiMessage> messages, NodeId source);

    /**
     * Sets where an input delivers the messages it produces (null to stop). The port calls the sink on its own
     * thread, never under a lock. Outputs ignore it.
     */
    void setInputSink(InputSink sink);
}
