package org.midimesh.load.driver.internal;

import java.util.List;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;

/** The input {@value #NAME}: the generator's messages enter the mesh here. Always available. Thread-safe. */
final class LoadGenPort implements MidiPort {

    static final String NAME = "Load Gen";

    // Written by the device registry (on whichever thread binds the driver) through setInputSink; read by the
    // generator thread before each message. The volatile write publishes the sink object.
    private volatile InputSink sink;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public DeviceType type() {
        return DeviceType.INPUT;
    }

    @Override
    public Availability availability() {
        return Availability.AVAILABLE;
    }

    /** @throws UnsupportedOperationException always: an input does not play */
    @Override
    public void play(List<MidiMessage> messages, NodeId source) {
        throw new UnsupportedOperationException(NAME + " is an input; only outputs play");
    }

    @Override
    public void setInputSink(InputSink sink) {
        this.sink = sink;
    }

    /** The sink now, or null when no route consumes the port. */
    InputSink sink() {
        return sink;
    }

    @Override
    public String toString() {
        return "load-test input \"" + NAME + "\"";
    }
}
