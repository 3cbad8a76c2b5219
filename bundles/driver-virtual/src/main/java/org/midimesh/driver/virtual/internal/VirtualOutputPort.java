package org.midimesh.driver.virtual.internal;

import java.time.Clock;
import java.util.List;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.common.Micros;

/**
 * A virtual output: playing a message records it in a {@link ReceivedLog} that the HTTP API can page through.
 * Thread-safe and lock-free: {@link #play} never blocks, so it is an {@link ImmediatePlay} port and the node plays it
 * on the thread that delivered the messages (a network receive thread, an HTTP thread) when nothing is queued for it.
 */
final class VirtualOutputPort extends VirtualPort implements ReceivedLog, ImmediatePlay {

    private final ReceivedRing ring;
    private final Clock clock;

    VirtualOutputPort(String name, boolean builtIn, int capacity, Clock clock) {
        super(name, builtIn);
        this.ring = new ReceivedRing(capacity);
        this.clock = clock;
    }

    @Override
    public DeviceType type() {
        return DeviceType.OUTPUT;
    }

    /**
     * Records the messages in order, all with the same receive time.
     *
     * @throws IllegalArgumentException when the list, one of its messages or the source is missing
     */
    @Override
    public void play(List<MidiMessage> messages, NodeId source) {
        if (messages == null) {
            throw new IllegalArgumentException("messages is missing");
        }
        if (source == null) {
            throw new IllegalArgumentException("source is missing");
        }
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) == null) {
                throw new IllegalArgumentException("messages[" + i + "] is missing");
            }
        }
        ring.append(messages, source, nowMicros());
    }

    /** Outputs have no sink; ignored. */
    @Override
    public void setInputSink(InputSink sink) {
    }

    @Override
    public Page read(long after, int limit) {
        return ring.read(after, limit);
    }

    private long nowMicros() {
        return Micros.sinceEpoch(clock.instant());
    }
}
