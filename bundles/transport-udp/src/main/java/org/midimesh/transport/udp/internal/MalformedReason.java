package org.midimesh.transport.udp.internal;

import java.util.Locale;

/** Why a datagram was dropped as malformed. Immutable. */
public enum MalformedReason {
    /** Shorter than its header, or than the payload length it declares. */
    TRUNCATED,
    /** Does not start with 4d 4d ("MM"). */
    BAD_MAGIC,
    /** A protocol version other than 1. */
    UNSUPPORTED_VERSION,
    /** A packet type byte this node does not know. */
    UNKNOWN_TYPE,
    /** Longer than {@link DatagramCodec#MAX_DATAGRAM_SIZE}. */
    OVERSIZE,
    /** More bytes follow the header than the payload length declares. */
    LENGTH_MISMATCH,
    /** The payload does not have the layout its packet type requires. */
    BAD_PAYLOAD,
    /** A MIDI message inside a data packet fails {@code MidiMessage} validation. */
    BAD_MIDI,
    /** Well formed, but addressed to another node id (set by the transport, never by the codec). */
    MISADDRESSED;

    /** Lower-case name for logs, for example {@code bad_midi}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
