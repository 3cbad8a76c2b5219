package org.midimesh.example.clock;

import java.util.List;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;

/**
 * The clock's one port: an input named {@value #NAME}. Always available: the clock is generated here, so the port can
 * always be used; a stopped clock is a clock that sends nothing, not a broken device. Thread-safe.
 */
final class ClockPort implements MidiPort {

    static final String NAME = "Clock";

    private final Runnable sinkChanged;

    // Written by the device registry (on whichever thread binds the driver) through setInputSink; read by the clock
    // thread before each delivery. The volatile write publishes the sink object.
    private volatile InputSink sink;

    /** @param sinkChanged called after each change of the sink, on the caller's thread, without a lock */
    ClockPort(Runnable sinkChanged) {
        this.sinkChanged = sinkChanged;
    }

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
        throw new UnsupportedOperationException("the clock is an input; only outputs play");
    }

    @Override
    public void setInputSink(InputSink sink) {
        this.sink = sink;
        sinkChanged.run();
    }

    /** The sink now, or null. */
    InputSink sink() {
        return sink;
    }

    @Override
    public String toString() {
        return "clock input \"" + NAME + "\"";
    }
}
