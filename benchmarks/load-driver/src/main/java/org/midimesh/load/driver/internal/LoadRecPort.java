package org.midimesh.load.driver.internal;

import java.util.List;
import java.util.function.LongSupplier;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.midi.MidiMessage;

/**
 * The output {@value #NAME}: what it plays goes to the {@link Recorder}, with the time the play began. Always
 * available. Thread-safe (its fields are final; the recorder is).
 * <p>An {@link ImmediatePlay} port: recording is a few array stores under a lock that is otherwise taken only between
 * runs, into arrays sized for the run at its start, so the node may play it on the thread that delivered the messages.
 */
final class LoadRecPort implements ImmediatePlay {

    static final String NAME = "Load Rec";

    private final Recorder recorder;
    private final LongSupplier nanoTime;

    LoadRecPort(Recorder recorder, LongSupplier nanoTime) {
        this.recorder = recorder;
        this.nanoTime = nanoTime;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public DeviceType type() {
        return DeviceType.OUTPUT;
    }

    @Override
    public Availability availability() {
        return Availability.AVAILABLE;
    }

    /** On the delivering or the delivery thread, one call at a time: every message arrived when the call began. */
    @Override
    public void play(List<MidiMessage> messages, NodeId source) {
        long arrivalNanos = nanoTime.getAsLong();
        recorder.record(messages, arrivalNanos);
    }

    /** Ignored: an output has no sink. */
    @Override
    public void setInputSink(InputSink sink) {
    }

    @Override
    public String toString() {
        return "load-test output \"" + NAME + "\"";
    }
}
