package org.midimesh.transport.udp.internal;

/**
 * The packet types of the datagram wire format (docs/protocol.md, byte 3), each with the sequence stream it counts in.
 * Immutable.
 */
public enum PacketType {
    DATA(1, Stream.DATA),
    HEARTBEAT(2, Stream.CONTROL),
    HEARTBEAT_REPLY(3, Stream.CONTROL),
    ACK(4, Stream.CONTROL),
    NACK(5, Stream.CONTROL),
    GOODBYE(6, Stream.CONTROL);

    /**
     * A sequence stream: each sender numbers its datagrams per destination node and stream, so a lost heartbeat never
     * looks like lost MIDI and the other way round.
     */
    public enum Stream {
        DATA, CONTROL
    }

    private static final PacketType[] BY_CODE = new PacketType[256];

    static {
        for (PacketType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final Stream stream;

    PacketType(int code, Stream stream) {
        this.code = code;
        this.stream = stream;
    }

    /** The type byte on the wire. */
    public int code() {
        return code;
    }

    public Stream stream() {
        return stream;
    }

    /** The type for a wire code, or null for an unknown code (including values outside 0..255). */
    public static PacketType ofCode(int code) {
        return code < 0 || code > 255 ? null : BY_CODE[code];
    }
}
