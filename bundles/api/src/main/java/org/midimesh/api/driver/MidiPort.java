package org.midimesh.api.driver;

import java.util.List;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One MIDI port of a driver: an input (it produces messages) or an output (it plays them). Thread-safe.
 * <p>A port object stands for one port for as long as the driver lists it. A driver that lists a new object under the
 * same name and direction replaces the port (same device id, new object).
 */
@ConsumerType
public interface MidiPort {

    /**
     * Name, unique within its driver and direction, at most 128 characters and without control characters; device
     * ids are keyed on it, so the same hardware or function should keep the same name.
     */
    String name();

    DeviceType type();

    /**
     * Whether the port can be used now and, when not, why. MidiMesh reads it whenever the driver reports a change of
     * its ports and when the device list is shown; it must return at once. Ports that cannot be used are still listed
     * (and keep their id), so a user sees them and why.
     */
    default Availability availability() {
        return Availability.AVAILABLE;
    }

    /**
     * Plays messages on an output, in order. MidiMesh calls it from the output's own delivery thread, one call at a
     * time per port, never on a network thread (unless the port is an {@link ImmediatePlay}) and never under a
     * MidiMesh lock. It may take as long as the device needs; while it runs, later messages for this port wait in the
     * port's bounded queue (and are dropped, counted, when it is full). A call that throws is counted and logged, and
     * the device is shown as unavailable until a call succeeds. Inputs throw {@link UnsupportedOperationException}.
     *
     * @param source the node whose input produced the messages
     */
    void play(List<MidiMessage> messages, NodeId source);

    /**
     * Sets where an input delivers the messages it produces (null to stop). Outputs ignore it. The port may call the
     * sink from any thread; the sink never blocks. See {@link InputSink}.
     */
    void setInputSink(InputSink sink);
}
