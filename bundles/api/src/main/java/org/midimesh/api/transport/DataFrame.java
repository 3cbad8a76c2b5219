package org.midimesh.api.transport;

import java.util.List;
import java.util.Objects;

import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;

/**
 * MIDI messages on their way to one device of the receiving node. Immutable.
 *
 * @param destinationDevice device id on the receiving node
 * @param sourceNode        node whose input produced the messages
 * @param sourceDevice      that input's device id
 * @param hops              how many nodes have forwarded the messages so far (0 for the first send)
 * @param messages          one or more messages, in order
 */
public record DataFrame(int destinationDevice, NodeId sourceNode, int sourceDevice, int hops,
        List<MidiMessage> messages) {

    /** Forwarding stops at this many hops, and a loop is counted. */
    public static final int MAX_HOPS = 8;

    public DataFrame {
        Objects.requireNonNull(sourceNode, "sourceNode");
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a data frame needs at least one message");
        }
        if (destinationDevice < 1 || destinationDevice > 0xffff || sourceDevice < 1 || sourceDevice > 0xffff) {
            throw new IllegalArgumentException("device ids must be 1..65535");
        }
        if (hops < 0 || hops > 255) {
            throw new IllegalArgumentException("hops must be 0..255, not " + hops);
        }
    }
}
