package org.midimesh.api.virtual;

import java.util.List;

import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What an output port of the virtual driver has played: the newest {@value #CAPACITY} messages, each with a sequence
 * number that grows from 1. Implemented by virtual output ports. Thread-safe.
 */
@ProviderType
public interface ReceivedLog {

    int CAPACITY = 65_536;

    /** One played message. */
    record Received(long seq, MidiMessage message, long receivedAtMicros, NodeId sourceNode) {
    }

    /**
     * @param total    messages played since the port was created
     * @param next     the {@code after} value for the following page
     * @param messages oldest first
     */
    record Page(long total, long next, List<Received> messages) {
    }

    /** Up to {@code limit} messages with a sequence number above {@code after}, oldest first. */
    Page read(long after, int limit);
}
