package org.midimesh.driver.javasound.internal;

import java.util.List;

import javax.sound.midi.Receiver;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.midi.MidiMessage;

/**
 * An output: a device with receivers. {@link #play} sends each message, in order, to the receiver the driver took
 * from the opened device, timestamped -1 (now). Thread-safe; holds no lock, so a device that blocks in
 * {@code Receiver.send} only holds up the caller (the output's delivery thread).
 */
final class JavaSoundOutputPort extends JavaSoundPort {

    // The opened device's receiver, or null when the device could not be opened. Final: published with the port.
    private final Receiver receiver;

    /** An output whose device is open: available. */
    JavaSoundOutputPort(String name, Receiver receiver) {
        super(name, Availability.AVAILABLE);
        this.receiver = receiver;
    }

    /** An output whose device cannot be used now. */
    JavaSoundOutputPort(String name, Availability unavailable) {
        super(name, unavailable);
        if (unavailable.available()) {
            throw new IllegalArgumentException("an output without a receiver cannot be available");
        }
        this.receiver = null;
    }

    @Override
    public DeviceType type() {
        return DeviceType.OUTPUT;
    }

    /**
     * Sends the messages, in order, to the device.
     *
     * @throws IllegalArgumentException when the list or one of its messages is missing
     * @throws IllegalStateException    when the device is not open (it could not be opened, it went away, or the
     *                                  driver stopped), or whatever the device's receiver throws
     */
    @Override
    public void play(List<MidiMessage> messages, NodeId source) {
        if (messages == null) {
            throw new IllegalArgumentException("messages is missing");
        }
        if (receiver == null) {
            throw new IllegalStateException(this + " is unavailable: " + availability().reason());
        }
        for (int i = 0; i < messages.size(); i++) {
            MidiMessage m = messages.get(i);
            if (m == null) {
                throw new IllegalArgumentException("messages[" + i + "] is missing");
            }
            if (closed()) {
                throw new IllegalStateException(this + " is closed: its device went away or the driver stopped");
            }
            receiver.send(JavaSoundMessages.toJavax(m), -1);
        }
    }

    /** Outputs have no sink; ignored. */
    @Override
    public void setInputSink(InputSink sink) {
    }
}
