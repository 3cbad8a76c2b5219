package org.midimesh.transport.udp.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.transport.udp.internal.DecodeResult.Decoded;
import org.midimesh.transport.udp.internal.DecodeResult.Malformed;

/**
 * Encoder and decoder of the MidiMesh datagram wire format, version 1, exactly as docs/protocol.md describes it.
 * Pure functions: no I/O, no state; thread-safe.
 * <p>Decoding is total: for any bytes it returns a {@link DecodeResult}, and a defect in the datagram never becomes an
 * exception. Encoding rejects arguments that cannot be put on the wire with {@link IllegalArgumentException}.
 */
public final class DatagramCodec {

    public static final int MAGIC_0 = 0x4d;
    public static final int MAGIC_1 = 0x4d;
    public static final int VERSION = 1;
    /** Bytes before the payload: magic 2, version 1, type 1, sender 16, destination 16, sequence 4, timestamp 8, length 2. */
    public static final int HEADER_SIZE = 50;
    /** No datagram is longer: it stays below common path MTUs after IP and UDP headers, so it is never fragmented. */
    public static final int MAX_DATAGRAM_SIZE = 1400;
    public static final int MAX_PAYLOAD_SIZE = MAX_DATAGRAM_SIZE - HEADER_SIZE;
    /** A DATA payload before its messages: dest device 2, source node 16, source device 2, hops 1, count 1. */
    public static final int DATA_PREFIX_SIZE = 22;
    public static final int MAX_MESSAGES_PER_DATAGRAM = 255;
    /** The longest MIDI message one datagram can carry (1326 bytes); longer ones belong on the reliable channel. */
    public static final int MAX_MESSAGE_SIZE = MAX_PAYLOAD_SIZE - DATA_PREFIX_SIZE - 2;
    public static final long MAX_SEQUENCE = 0xffff_ffffL;

    static final int OFFSET_VERSION = 2;
    static final int OFFSET_TYPE = 3;
    static final int OFFSET_SENDER = 4;
    static final int OFFSET_DESTINATION = 20;
    static final int OFFSET_SEQUENCE = 36;
    static final int OFFSET_TIMESTAMP = 40;
    static final int OFFSET_LENGTH = 48;

    private DatagramCodec() {
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Encodes one packet as one datagram.
     *
     * @throws IllegalArgumentException when a data packet's frame does not fit in one datagram (use
     *                                  {@link #encodeData}, which splits)
     */
    public static byte[] encode(Packet packet) {
        Objects.requireNonNull(packet, "packet");
        if (packet instanceof Packet.Data d) {
            return encodeDataDatagram(d.header(), d.frame());
        }
        byte[] out;
        if (packet instanceof Packet.HeartbeatReply r) {
            out = header(PacketType.HEARTBEAT_REPLY, r.header(), 8);
            putI64(out, HEADER_SIZE, r.echoedTimestampMicros());
        } else if (packet instanceof Packet.Ack a) {
            out = header(PacketType.ACK, a.header(), 4);
            putU32(out, HEADER_SIZE, a.acknowledgedSequence());
        } else if (packet instanceof Packet.Nack n) {
            out = header(PacketType.NACK, n.header(), 4);
            putU32(out, HEADER_SIZE, n.acknowledgedSequence());
        } else {
            // Heartbeat and Goodbye: header only.
            out = header(packet.type(), packet.header(), 0);
        }
        return out;
    }

    /**
     * Encodes a data frame as one or more datagrams, in order: the frame is {@link #split} where needed, and datagram
     * {@code i} carries sequence {@code first.sequence() + i}, wrapping from 4294967295 to 0.
     *
     * @throws IllegalArgumentException when one message alone is longer than {@link #MAX_MESSAGE_SIZE}
     */
    public static List<byte[]> encodeData(Header first, DataFrame frame) {
        Objects.requireNonNull(first, "first");
        List<DataFrame> parts = split(frame);
        List<byte[]> out = new ArrayList<>(parts.size());
        long seq = first.sequence();
        for (DataFrame part : parts) {
            out.add(encodeDataDatagram(first.withSequence(seq), part));
            seq = (seq + 1) & MAX_SEQUENCE;
        }
        return out;
    }

    /**
     * Splits a frame into frames that each fit in one datagram, keeping the message order and every other field. A frame
     * that fits is returned as is.
     *
     * @throws IllegalArgumentException when one message alone is longer than {@link #MAX_MESSAGE_SIZE}
     */
    public static List<DataFrame> split(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        List<MidiMessage> messages = frame.messages();
        if (messages.size() <= MAX_MESSAGES_PER_DATAGRAM && dataPayloadSize(messages) <= MAX_PAYLOAD_SIZE) {
            return List.of(frame);
        }
        List<DataFrame> out = new ArrayList<>();
        List<MidiMessage> current = new ArrayList<>();
        int size = DATA_PREFIX_SIZE;
        for (int i = 0; i < messages.size(); i++) {
            MidiMessage m = messages.get(i);
            checkMessageFits(i, m);
            int need = 2 + m.length();
            if (current.size() == MAX_MESSAGES_PER_DATAGRAM || size + need > MAX_PAYLOAD_SIZE) {
                out.add(withMessages(frame, current));
                current = new ArrayList<>();
                size = DATA_PREFIX_SIZE;
            }
            current.add(m);
            size += need;
        }
        out.add(withMessages(frame, current));
        return out;
    }

    /**
     * Writes sequence and timestamp into an encoded datagram, so a sender can encode first and number the datagram
     * just before it goes out.
     */
    public static void patchSequenceAndTimestamp(byte[] datagram, long sequence, long timestampMicros) {
        if (sequence < 0 || sequence > MAX_SEQUENCE) {
            throw new IllegalArgumentException("sequence must be 0..4294967295 (u32), not " + sequence);
        }
        if (datagram.length < HEADER_SIZE) {
            throw new IllegalArgumentException("not an encoded datagram: " + datagram.length + " bytes");
        }
        putU32(datagram, OFFSET_SEQUENCE, sequence);
        putI64(datagram, OFFSET_TIMESTAMP, timestampMicros);
    }

    private static byte[] encodeDataDatagram(Header h, DataFrame f) {
        List<MidiMessage> messages = f.messages();
        for (int i = 0; i < messages.size(); i++) {
            checkMessageFits(i, messages.get(i));
        }
        int payload = dataPayloadSize(messages);
        if (messages.size() > MAX_MESSAGES_PER_DATAGRAM || payload > MAX_PAYLOAD_SIZE) {
            throw new IllegalArgumentException("frame of " + messages.size() + " messages needs a " + payload
                    + "-byte payload; one datagram holds 255 messages and " + MAX_PAYLOAD_SIZE
                    + " bytes: use encodeData, which splits");
        }
        byte[] out = header(PacketType.DATA, h, payload);
        int p = HEADER_SIZE;
        putU16(out, p, f.destinationDevice());
        putNodeId(out, p + 2, f.sourceNode());
        putU16(out, p + 18, f.sourceDevice());
        out[p + 20] = (byte) f.hops();
        out[p + 21] = (byte) messages.size();
        p += DATA_PREFIX_SIZE;
        for (MidiMessage m : messages) {
            putU16(out, p, m.length());
            m.copyTo(out, p + 2);
            p += 2 + m.length();
        }
        return out;
    }

    private static void checkMessageFits(int index, MidiMessage m) {
        if (m.length() > MAX_MESSAGE_SIZE) {
            throw new IllegalArgumentException("message " + index + " is " + m.length() + " bytes; at most "
                    + MAX_MESSAGE_SIZE + " fit in a datagram: send it on the reliable channel");
        }
    }

    private static int dataPayloadSize(List<MidiMessage> messages) {
        int size = DATA_PREFIX_SIZE;
        for (MidiMessage m : messages) {
            size += 2 + m.length();
        }
        return size;
    }

    private static DataFrame withMessages(DataFrame f, List<MidiMessage> messages) {
        return new DataFrame(f.destinationDevice(), f.sourceNode(), f.sourceDevice(), f.hops(), messages);
    }

    private static byte[] header(PacketType type, Header h, int payloadLength) {
        byte[] out = new byte[HEADER_SIZE + payloadLength];
        out[0] = (byte) MAGIC_0;
        out[1] = (byte) MAGIC_1;
        out[OFFSET_VERSION] = (byte) VERSION;
        out[OFFSET_TYPE] = (byte) type.code();
        putNodeId(out, OFFSET_SENDER, h.sender());
        putNodeId(out, OFFSET_DESTINATION, h.destination());
        putU32(out, OFFSET_SEQUENCE, h.sequence());
        putI64(out, OFFSET_TIMESTAMP, h.timestampMicros());
        putU16(out, OFFSET_LENGTH, payloadLength);
        return out;
    }

    private static void putNodeId(byte[] b, int at, NodeId id) {
        System.arraycopy(id.toBytes(), 0, b, at, 16);
    }

    private static void putU16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static void putU32(byte[] b, int at, long v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    private static void putI64(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    // ---------------------------------------------------------------- decoding

    /** Decodes a whole array as one datagram. Never throws for any content; see {@link #decode(byte[], int, int)}. */
    public static DecodeResult decode(byte[] datagram) {
        return decode(datagram, 0, datagram.length);
    }

    /**
     * Decodes the {@code length} bytes at {@code offset} as one datagram. Never throws for any content of those bytes:
     * a defect gives a {@link Malformed} naming it. The bytes are copied where kept; the caller may reuse the array.
     *
     * @throws IndexOutOfBoundsException only when offset and length do not lie within the array (a caller bug)
     */
    public static DecodeResult decode(byte[] buf, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, buf.length);
        Reader r = new Reader(buf, offset);
        if (length < 2) {
            return malformed(MalformedReason.TRUNCATED, "datagram of " + length + " bytes, the header alone is 50", null);
        }
        if (r.u8(0) != MAGIC_0 || r.u8(1) != MAGIC_1) {
            return malformed(MalformedReason.BAD_MAGIC,
                    String.format("magic is %02x %02x, not 4d 4d (\"MM\")", r.u8(0), r.u8(1)), null);
        }
        if (length < 3) {
            return malformed(MalformedReason.TRUNCATED, "datagram of " + length + " bytes, the header alone is 50", null);
        }
        if (r.u8(OFFSET_VERSION) != VERSION) {
            return malformed(MalformedReason.UNSUPPORTED_VERSION,
                    "protocol version " + r.u8(OFFSET_VERSION) + ", this node speaks version " + VERSION, null);
        }
        NodeId sender = length >= OFFSET_DESTINATION ? r.nodeId(OFFSET_SENDER) : null;
        if (length > MAX_DATAGRAM_SIZE) {
            return malformed(MalformedReason.OVERSIZE,
                    "datagram of " + length + " bytes, over the " + MAX_DATAGRAM_SIZE + "-byte limit", sender);
        }
        if (length < HEADER_SIZE) {
            return malformed(MalformedReason.TRUNCATED, "datagram of " + length + " bytes, the header alone is 50",
                    sender);
        }
        PacketType type = PacketType.ofCode(r.u8(OFFSET_TYPE));
        if (type == null) {
            return malformed(MalformedReason.UNKNOWN_TYPE, "unknown packet type " + r.u8(OFFSET_TYPE), sender);
        }
        int payloadLength = r.u16(OFFSET_LENGTH);
        int following = length - HEADER_SIZE;
        if (payloadLength > following) {
            return malformed(MalformedReason.TRUNCATED, "payload length " + payloadLength + " but only " + following
                    + " bytes follow the header", sender);
        }
        if (payloadLength < following) {
            return malformed(MalformedReason.LENGTH_MISMATCH, "payload length " + payloadLength + " but " + following
                    + " bytes follow the header", sender);
        }
        Header header = new Header(sender, r.nodeId(OFFSET_DESTINATION), r.u32(OFFSET_SEQUENCE),
                r.i64(OFFSET_TIMESTAMP));
        switch (type) {
            case DATA:
                return decodeData(header, r, payloadLength);
            case HEARTBEAT:
                return payloadLength == 0 ? ok(new Packet.Heartbeat(header)) : badSize(type, payloadLength, 0, sender);
            case GOODBYE:
                return payloadLength == 0 ? ok(new Packet.Goodbye(header)) : badSize(type, payloadLength, 0, sender);
            case HEARTBEAT_REPLY:
                return payloadLength == 8 ? ok(new Packet.HeartbeatReply(header, r.i64(HEADER_SIZE)))
                        : badSize(type, payloadLength, 8, sender);
            case ACK:
                return payloadLength == 4 ? ok(new Packet.Ack(header, r.u32(HEADER_SIZE)))
                        : badSize(type, payloadLength, 4, sender);
            case NACK:
                return payloadLength == 4 ? ok(new Packet.Nack(header, r.u32(HEADER_SIZE)))
                        : badSize(type, payloadLength, 4, sender);
            default:
                throw new AssertionError("packet type without a decoder: " + type);
        }
    }

    private static DecodeResult decodeData(Header header, Reader r, int payloadLength) {
        NodeId sender = header.sender();
        if (payloadLength < DATA_PREFIX_SIZE) {
            return malformed(MalformedReason.BAD_PAYLOAD, "data payload of " + payloadLength
                    + " bytes, shorter than its " + DATA_PREFIX_SIZE + "-byte prefix", sender);
        }
        int p = HEADER_SIZE;
        int end = HEADER_SIZE + payloadLength;
        int destinationDevice = r.u16(p);
        NodeId sourceNode = r.nodeId(p + 2);
        int sourceDevice = r.u16(p + 18);
        int hops = r.u8(p + 20);
        int count = r.u8(p + 21);
        if (destinationDevice == 0) {
            return malformed(MalformedReason.BAD_PAYLOAD, "destination device 0 (device ids are 1..65535)", sender);
        }
        if (sourceDevice == 0) {
            return malformed(MalformedReason.BAD_PAYLOAD, "source device 0 (device ids are 1..65535)", sender);
        }
        if (count == 0) {
            return malformed(MalformedReason.BAD_PAYLOAD, "message count 0 (a data packet carries 1..255)", sender);
        }
        p += DATA_PREFIX_SIZE;
        List<MidiMessage> messages = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (end - p < 2) {
                return malformed(MalformedReason.BAD_PAYLOAD, "message " + i + " of " + count
                        + ": its length field runs past the payload", sender);
            }
            int messageLength = r.u16(p);
            p += 2;
            if (messageLength > end - p) {
                return malformed(MalformedReason.BAD_PAYLOAD, "message " + i + " of " + count + ": " + messageLength
                        + " bytes, only " + (end - p) + " left in the payload", sender);
            }
            byte[] bytes = r.copy(p, messageLength);
            p += messageLength;
            String problem = MidiMessage.validate(bytes);
            if (problem != null) {
                return malformed(MalformedReason.BAD_MIDI, "message " + i + ": " + problem, sender);
            }
            messages.add(MidiMessage.of(bytes));
        }
        if (p != end) {
            return malformed(MalformedReason.BAD_PAYLOAD, (end - p) + " bytes after the last of " + count
                    + " messages", sender);
        }
        return ok(new Packet.Data(header,
                new DataFrame(destinationDevice, sourceNode, sourceDevice, hops, messages)));
    }

    private static DecodeResult ok(Packet p) {
        return new Decoded(p);
    }

    private static DecodeResult badSize(PacketType type, int actual, int expected, NodeId sender) {
        return malformed(MalformedReason.BAD_PAYLOAD, type.name().toLowerCase(java.util.Locale.ROOT)
                + " payload of " + actual + " bytes, it must be " + expected, sender);
    }

    private static DecodeResult malformed(MalformedReason reason, String detail, NodeId sender) {
        return new Malformed(reason, detail, Optional.ofNullable(sender));
    }

    /** Big-endian reads relative to the datagram start; callers check bounds first. */
    private static final class Reader {
        private final byte[] b;
        private final int base;

        Reader(byte[] b, int base) {
            this.b = b;
            this.base = base;
        }

        int u8(int at) {
            return b[base + at] & 0xff;
        }

        int u16(int at) {
            return (u8(at) << 8) | u8(at + 1);
        }

        long u32(int at) {
            return ((long) u16(at) << 16) | u16(at + 2);
        }

        long i64(int at) {
            return (u32(at) << 32) | u32(at + 4);
        }

        NodeId nodeId(int at) {
            return NodeId.fromBytes(b, base + at);
        }

        byte[] copy(int at, int length) {
            byte[] out = new byte[length];
            System.arraycopy(b, base + at, out, 0, length);
            return out;
        }
    }
}
