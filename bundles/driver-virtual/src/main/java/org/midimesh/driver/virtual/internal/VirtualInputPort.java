package org.midimesh.driver.virtual.internal;

import java.util.List;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.midi.MidiMessage;

/**
 * A virtual input. It never produces anything by itself: messages for it enter the mesh through the device registry
 * ({@code DeviceRegistry.send}). It keeps the sink only so that it honours the {@code MidiPort} contract. Thread-safe.
 */
final class VirtualInputPort extends VirtualPort {

    // Written by whoever registers the port (the device registry, on a framework or driver thread), read by anyone
    // asking for it; volatile publishes the sink object itself. Nothing here calls it.
    private volatile InputSink sink;

    VirtualInputPort(String name, boolean builtIn) {
        super(name, builtIn);
    }

    @Override
    public DeviceType type() {
        return DeviceType.INPUT;
    }

    /** @throws UnsupportedOperationException always: an input does not play */
    @Override
    public void play(List<MidiMessage> messages, NodeId source) {
        throw new UnsupportedOperationException(this + " is an input; only outputs play");
    }

    @Override
    public void setInputSink(InputSink sink) {
        this.sink = sink;
    }

    /** The sink last set, or null. */
    InputSink inputSink() {
        return sink;
    }
}
