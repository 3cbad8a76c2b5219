package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.transport.udp.internal.DecodeResult.Decoded;
import org.midimesh.transport.udp.internal.DecodeResult.Malformed;

@Timeout(30)
class DatagramCodecTest {

    static final NodeId A = NodeId.parse("550e8400-e29b-41d4-a716-446655440000");
    static final NodeId B = NodeId.parse("660f9511-f39c-52e5-b827-557766551111");
    static final long TS = 0x0102030405060708L;

    static final Packet DATA_NOTE_ON = new Packet.Data(new Header(A, B, 7, TS),
            new DataFrame(2, A, 1, 0, List.of(MidiMessage.parseHex("90 3c 64"))));
    static final Packet HEARTBEAT = new Packet.Heartbeat(new Header(A, B, 3, TS));
    static final Packet HEARTBEAT_REPLY = new Packet.HeartbeatReply(new Header(B, A, 9, 0x01020304050a0b0cL), TS);
    static final Packet GOODBYE = new Packet.Goodbye(new Header(A, B, 4, 0x0102030405070000L));

    // ------------------------------------------------------------ vectors of docs/protocol.md

    static Stream<Arguments> validVectors() {
        return Stream.of(
                Arguments.of("data-note-on", Vectors.DATA_NOTE_ON, DATA_NOTE_ON),
                Arguments.of("heartbeat", Vectors.HEARTBEAT, HEARTBEAT),
                Arguments.of("heartbeat-reply", Vectors.HEARTBEAT_REPLY, HEARTBEAT_REPLY),
                Arguments.of("goodbye", Vectors.GOODBYE, GOODBYE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validVectors")
    void shouldEncodeEachVectorByteForByte(String name, String vector, Packet packet) {
        assertEquals(Hex.format(Hex.parse(vector)), Hex.format(DatagramCodec.encode(packet)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validVectors")
    void shouldDecodeEachVectorToItsPacket(String name, String vector, Packet packet) {
        assertEquals(new Decoded(packet), DatagramCodec.decode(Hex.parse(vector)));
    }

    @Test
    void shouldGiveTheDataVectorItsDocumentedLength() {
        assertEquals(77, Hex.parse(Vectors.DATA_NOTE_ON).length);
        assertEquals(50, Hex.parse(Vectors.HEARTBEAT).length);
        assertEquals(58, Hex.parse(Vectors.HEARTBEAT_REPLY).length);
        assertEquals(50, Hex.parse(Vectors.GOODBYE).length);
    }

    @Test
    void shouldRejectTheVersion2VectorWithoutNamingASender() {
        Malformed m = malformed(Hex.parse(Vectors.MALFORMED_VERSION_2));
        assertEquals(MalformedReason.UNSUPPORTED_VERSION, m.reason());
        assertEquals(Optional.empty(), m.sender());
        assertEquals("protocol version 2, this node speaks version 1", m.detail());
    }

    @Test
    void shouldRejectTheBadMidiVectorNamingTheMessage() {
        Malformed m = malformed(Hex.parse(Vectors.MALFORMED_BAD_MIDI));
        assertEquals(MalformedReason.BAD_MIDI, m.reason());
        assertEquals(Optional.of(A), m.sender());
        assertEquals("message 0: data byte 2 is ff, above 7f", m.detail());
    }

    @Test
    void shouldRejectTheLengthMismatchVector() {
        Malformed m = malformed(Hex.parse(Vectors.MALFORMED_LENGTH_MISMATCH));
        assertEquals(MalformedReason.LENGTH_MISMATCH, m.reason());
        assertEquals(Optional.of(A), m.sender());
    }

    // ------------------------------------------------------------ round trips

    static Stream<Packet> everyType() {
        NodeId c = NodeId.random();
        List<MidiMessage> mixed = List.of(MidiMessage.parseHex("80 40 00"), MidiMessage.parseHex("a1 40 10"),
                MidiMessage.parseHex("b2 07 7f"), MidiMessage.parseHex("c3 05"), MidiMessage.parseHex("d4 30"),
                MidiMessage.parseHex("e5 00 40"), MidiMessage.parseHex("f8"), MidiMessage.parseHex("f2 10 20"),
                MidiMessage.parseHex("f0 7e 7f 06 01 f7"));
        return Stream.of(
                DATA_NOTE_ON,
                new Packet.Data(new Header(A, c, DatagramCodec.MAX_SEQUENCE, Long.MAX_VALUE),
                        new DataFrame(65535, c, 65535, 255, mixed)),
                new Packet.Data(new Header(c, B, 0, -1L), new DataFrame(1, A, 1, 8, List.of(sysEx(1326)))),
                new Packet.Data(new Header(c, B, 12, 0), new DataFrame(3, c, 4, 1, ccs(255))),
                HEARTBEAT,
                new Packet.Heartbeat(new Header(c, A, DatagramCodec.MAX_SEQUENCE, 0)),
                HEARTBEAT_REPLY,
                new Packet.HeartbeatReply(new Header(A, c, 0, 1), Long.MIN_VALUE),
                new Packet.Ack(new Header(A, B, 5, TS), 0),
                new Packet.Ack(new Header(A, B, 6, TS), DatagramCodec.MAX_SEQUENCE),
                new Packet.Nack(new Header(B, A, 7, TS), 123_456_789L),
                GOODBYE);
    }

    @ParameterizedTest
    @MethodSource("everyType")
    void shouldDecodeWhatItEncodes(Packet packet) {
        byte[] datagram = DatagramCodec.encode(packet);
        assertTrue(datagram.length <= DatagramCodec.MAX_DATAGRAM_SIZE, "datagram of " + datagram.length + " bytes");
        assertEquals(new Decoded(packet), DatagramCodec.decode(datagram));
    }

    @ParameterizedTest
    @MethodSource("everyType")
    void shouldDecodeADatagramInTheMiddleOfALargerArray(Packet packet) {
        byte[] datagram = DatagramCodec.encode(packet);
        byte[] buffer = new byte[datagram.length + 17];
        Arrays.fill(buffer, (byte) 0xee);
        System.arraycopy(datagram, 0, buffer, 5, datagram.length);
        assertEquals(new Decoded(packet), DatagramCodec.decode(buffer, 5, datagram.length));
    }

    @Test
    void shouldCoverEveryPacketTypeInTheRoundTrips() {
        assertEquals(List.of(PacketType.values()), everyType().map(Packet::type).distinct().sorted().toList());
    }

    @Test
    void shouldPatchSequenceAndTimestampInPlace() {
        byte[] datagram = DatagramCodec.encode(new Packet.Heartbeat(new Header(A, B, 0, 0)));
        DatagramCodec.patchSequenceAndTimestamp(datagram, 3, TS);
        assertArrayEquals(Hex.parse(Vectors.HEARTBEAT), datagram);
        assertThrows(IllegalArgumentException.class,
                () -> DatagramCodec.patchSequenceAndTimestamp(datagram, DatagramCodec.MAX_SEQUENCE + 1, 0));
    }

    @Test
    void shouldRejectASequenceOutsideU32() {
        assertThrows(IllegalArgumentException.class, () -> new Header(A, B, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Header(A, B, 1L << 32, 0));
    }

    // ------------------------------------------------------------ malformed datagrams

    static Stream<Arguments> validDatagrams() {
        return Stream.concat(validVectors().map(a -> Arguments.of(a.get()[0], Hex.parse((String) a.get()[1]))),
                Stream.of(Arguments.of("data-255-ccs", DatagramCodec.encode(new Packet.Data(new Header(A, B, 1, 1),
                        new DataFrame(2, A, 1, 0, ccs(255)))))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validDatagrams")
    void shouldReportEveryTruncationAsTruncated(String name, byte[] datagram) {
        for (int length = 0; length < datagram.length; length++) {
            Malformed m = malformed(Arrays.copyOf(datagram, length));
            assertEquals(MalformedReason.TRUNCATED, m.reason(), "cut to " + length + " bytes: " + m.detail());
            assertEquals(length >= 20, m.sender().isPresent(), "sender readable at " + length + " bytes");
        }
    }

    @Test
    void shouldRejectAnEmptyDatagram() {
        assertEquals(MalformedReason.TRUNCATED, malformed(new byte[0]).reason());
    }

    @Test
    void shouldRejectABadMagic() {
        byte[] d = Hex.parse(Vectors.HEARTBEAT);
        d[1] = 0x49; // "MI", the magic of the original system
        Malformed m = malformed(d);
        assertEquals(MalformedReason.BAD_MAGIC, m.reason());
        assertEquals(Optional.empty(), m.sender());
        assertEquals("magic is 4d 49, not 4d 4d (\"MM\")", m.detail());
    }

    @Test
    void shouldRejectVersion2() {
        byte[] d = Hex.parse(Vectors.DATA_NOTE_ON);
        d[2] = 2;
        assertEquals(MalformedReason.UNSUPPORTED_VERSION, malformed(d).reason());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 7, 99, 255})
    void shouldRejectAnUnknownType(int type) {
        byte[] d = Hex.parse(Vectors.HEARTBEAT);
        d[3] = (byte) type;
        Malformed m = malformed(d);
        assertEquals(MalformedReason.UNKNOWN_TYPE, m.reason());
        assertEquals("unknown packet type " + type, m.detail());
        assertEquals(Optional.of(A), m.sender());
    }

    @Test
    void shouldRejectAPayloadLengthLongerThanTheDatagram() {
        byte[] d = Hex.parse(Vectors.DATA_NOTE_ON);
        d[49] = 0x1c; // 28, one more than follows
        Malformed m = malformed(d);
        assertEquals(MalformedReason.TRUNCATED, m.reason());
        assertEquals("payload length 28 but only 27 bytes follow the header", m.detail());
    }

    @Test
    void shouldRejectAPayloadLengthShorterThanTheDatagram() {
        byte[] d = Hex.parse(Vectors.DATA_NOTE_ON);
        d[49] = 0x1a;
        assertEquals(MalformedReason.LENGTH_MISMATCH, malformed(d).reason());
    }

    @Test
    void shouldRejectAnOversizeDatagram() {
        byte[] d = Arrays.copyOf(Hex.parse(Vectors.HEARTBEAT), DatagramCodec.MAX_DATAGRAM_SIZE + 1);
        Malformed m = malformed(d);
        assertEquals(MalformedReason.OVERSIZE, m.reason());
        assertEquals(Optional.of(A), m.sender());
    }

    static Stream<Arguments> badMidi() {
        return Stream.of(
                Arguments.of("3c 64 00", "message 0: no status byte: first byte is 3c"),
                Arguments.of("90 3c", "message 0: status 90 needs 3 bytes, got 2"),
                Arguments.of("90 3c 64 64", "message 0: status 90 needs 3 bytes, got 4"),
                Arguments.of("f0 7e 7f", "message 0: unterminated SysEx: it must end with f7"),
                Arguments.of("f4", "message 0: undefined status byte f4"),
                Arguments.of("", "message 0: message is empty"));
    }

    @ParameterizedTest
    @MethodSource("badMidi")
    void shouldRejectInvalidMidiInside(String hex, String detail) {
        Malformed m = malformed(dataDatagram(2, 1, 1, entry(Hex.parse(hex))));
        assertEquals(MalformedReason.BAD_MIDI, m.reason());
        assertEquals(detail, m.detail());
    }

    @Test
    void shouldRejectInvalidMidiAfterValidMessages() {
        byte[] d = dataDatagram(2, 1, 2, Hex.parse("00 03 90 3c 64"), Hex.parse("00 02 c0 80"));
        Malformed m = malformed(d);
        assertEquals(MalformedReason.BAD_MIDI, m.reason());
        assertEquals("message 1: data byte 1 is 80, above 7f", m.detail());
    }

    @Test
    void shouldRejectZeroMessages() {
        Malformed m = malformed(dataDatagram(2, 1, 0));
        assertEquals(MalformedReason.BAD_PAYLOAD, m.reason());
        assertEquals("message count 0 (a data packet carries 1..255)", m.detail());
    }

    @Test
    void shouldRejectDeviceZero() {
        assertEquals("destination device 0 (device ids are 1..65535)",
                malformed(dataDatagram(0, 1, 1, Hex.parse("00 01 f8"))).detail());
        assertEquals("source device 0 (device ids are 1..65535)",
                malformed(dataDatagram(2, 0, 1, Hex.parse("00 01 f8"))).detail());
    }

    @Test
    void shouldRejectAMessageRunningPastThePayload() {
        Malformed m = malformed(dataDatagram(2, 1, 1, Hex.parse("00 04 90 3c 64")));
        assertEquals(MalformedReason.BAD_PAYLOAD, m.reason());
        assertEquals("message 0 of 1: 4 bytes, only 3 left in the payload", m.detail());
    }

    @Test
    void shouldRejectFewerMessagesThanCounted() {
        Malformed m = malformed(dataDatagram(2, 1, 2, Hex.parse("00 03 90 3c 64")));
        assertEquals(MalformedReason.BAD_PAYLOAD, m.reason());
        assertEquals("message 1 of 2: its length field runs past the payload", m.detail());
    }

    @Test
    void shouldRejectBytesAfterTheLastMessage() {
        Malformed m = malformed(dataDatagram(2, 1, 1, Hex.parse("00 03 90 3c 64 f8")));
        assertEquals(MalformedReason.BAD_PAYLOAD, m.reason());
        assertEquals("1 bytes after the last of 1 messages", m.detail());
    }

    @Test
    void shouldRejectADataPayloadShorterThanItsPrefix() {
        byte[] d = withPayload(PacketType.DATA, new byte[21]);
        assertEquals(MalformedReason.BAD_PAYLOAD, malformed(d).reason());
    }

    @Test
    void shouldRejectControlPayloadsOfTheWrongSize() {
        assertEquals("heartbeat payload of 1 bytes, it must be 0",
                malformed(withPayload(PacketType.HEARTBEAT, new byte[1])).detail());
        assertEquals("goodbye payload of 8 bytes, it must be 0",
                malformed(withPayload(PacketType.GOODBYE, new byte[8])).detail());
        assertEquals("heartbeat_reply payload of 4 bytes, it must be 8",
                malformed(withPayload(PacketType.HEARTBEAT_REPLY, new byte[4])).detail());
        assertEquals("ack payload of 8 bytes, it must be 4", malformed(withPayload(PacketType.ACK, new byte[8])).detail());
        assertEquals("nack payload of 0 bytes, it must be 4", malformed(withPayload(PacketType.NACK, new byte[0])).detail());
    }

    /** Any bytes decode to a result; a datagram that decodes re-encodes to exactly the same bytes. */
    @Test
    void shouldDecodeAnyBytesWithoutThrowing() {
        Random random = new Random(20_26_11_27L);
        List<byte[]> seeds = new ArrayList<>();
        validDatagrams().forEach(a -> seeds.add((byte[]) a.get()[1]));
        int decoded = 0;
        for (int i = 0; i < 50_000; i++) {
            byte[] d;
            if (i % 10 == 0) {
                d = new byte[random.nextInt(120)];
                random.nextBytes(d);
            } else {
                byte[] seed = seeds.get(random.nextInt(seeds.size()));
                d = Arrays.copyOf(seed, Math.max(0, seed.length + random.nextInt(5) - 2));
                int flips = 1 + random.nextInt(3);
                for (int f = 0; f < flips && d.length > 0; f++) {
                    d[random.nextInt(d.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            DecodeResult r = DatagramCodec.decode(d);
            assertNotNull(r);
            if (r instanceof Decoded ok) {
                decoded++;
                assertEquals(Hex.format(d), Hex.format(DatagramCodec.encode(ok.packet())), "canonical encoding");
            }
        }
        assertTrue(decoded > 0, "some mutations (timestamps, ids, sequence) must still decode");
    }

    // ------------------------------------------------------------ splitting

    @Test
    void shouldSplit1000ControlChangesIntoOrderedDatagrams() {
        List<MidiMessage> messages = ccs(1000);
        DataFrame frame = new DataFrame(2, A, 1, 3, messages);
        List<byte[]> datagrams = DatagramCodec.encodeData(new Header(A, B, 100, TS), frame);
        assertEquals(4, datagrams.size());
        List<MidiMessage> reassembled = new ArrayList<>();
        long expectedSeq = 100;
        for (byte[] d : datagrams) {
            assertTrue(d.length <= DatagramCodec.MAX_DATAGRAM_SIZE, "datagram of " + d.length + " bytes");
            Packet.Data p = (Packet.Data) assertInstanceOf(Decoded.class, DatagramCodec.decode(d)).packet();
            assertEquals(expectedSeq++, p.header().sequence());
            assertEquals(TS, p.header().timestampMicros());
            assertEquals(2, p.frame().destinationDevice());
            assertEquals(A, p.frame().sourceNode());
            assertEquals(1, p.frame().sourceDevice());
            assertEquals(3, p.frame().hops());
            reassembled.addAll(p.frame().messages());
        }
        assertEquals(messages, reassembled);
    }

    @Test
    void shouldWrapTheSequenceAcrossASplit() {
        List<byte[]> datagrams = DatagramCodec.encodeData(new Header(A, B, DatagramCodec.MAX_SEQUENCE, TS),
                new DataFrame(2, A, 1, 0, ccs(600)));
        List<Long> sequences = datagrams.stream()
                .map(d -> ((Decoded) DatagramCodec.decode(d)).packet().header().sequence()).toList();
        assertEquals(List.of(DatagramCodec.MAX_SEQUENCE, 0L, 1L), sequences);
    }

    @Test
    void shouldSplitLongMessagesByBytesKeepingEachDatagramFull() {
        List<MidiMessage> messages = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            messages.add(sysEx(100 + 7 * i));
        }
        List<DataFrame> parts = DatagramCodec.split(new DataFrame(2, A, 1, 0, messages));
        assertTrue(parts.size() > 1);
        List<MidiMessage> reassembled = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            DataFrame part = parts.get(i);
            int size = payloadSize(part.messages());
            assertTrue(size <= DatagramCodec.MAX_PAYLOAD_SIZE);
            if (i < parts.size() - 1) {
                MidiMessage next = parts.get(i + 1).messages().get(0);
                assertTrue(size + 2 + next.length() > DatagramCodec.MAX_PAYLOAD_SIZE, "greedy: part " + i);
            }
            reassembled.addAll(part.messages());
        }
        assertEquals(messages, reassembled);
    }

    @Test
    void shouldReturnAFrameThatFitsUnchanged() {
        DataFrame frame = ((Packet.Data) DATA_NOTE_ON).frame();
        assertSame(frame, DatagramCodec.split(frame).get(0));
        assertEquals(1, DatagramCodec.split(frame).size());
    }

    @Test
    void shouldFitTheLongestMessageExactlyInOneDatagram() {
        List<byte[]> d = DatagramCodec.encodeData(new Header(A, B, 0, 0),
                new DataFrame(2, A, 1, 0, List.of(sysEx(DatagramCodec.MAX_MESSAGE_SIZE))));
        assertEquals(1, d.size());
        assertEquals(DatagramCodec.MAX_DATAGRAM_SIZE, d.get(0).length);
    }

    @Test
    void shouldRefuseAMessageTooLongForADatagram() {
        DataFrame frame = new DataFrame(2, A, 1, 0,
                List.of(MidiMessage.parseHex("f8"), sysEx(DatagramCodec.MAX_MESSAGE_SIZE + 1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatagramCodec.encodeData(new Header(A, B, 0, 0), frame));
        assertEquals("message 1 is 1327 bytes; at most 1326 fit in a datagram: send it on the reliable channel",
                e.getMessage());
    }

    @Test
    void shouldRefuseToEncodeAnOversizeFrameAsOneDatagram() {
        Packet p = new Packet.Data(new Header(A, B, 0, 0), new DataFrame(2, A, 1, 0, ccs(256)));
        assertThrows(IllegalArgumentException.class, () -> DatagramCodec.encode(p));
    }

    // ------------------------------------------------------------ helpers

    static List<MidiMessage> ccs(int count) {
        List<MidiMessage> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(MidiMessage.of((byte) (0xb0 | (i % 16)), (byte) (i % 120), (byte) (i % 128)));
        }
        return out;
    }

    static MidiMessage sysEx(int length) {
        byte[] b = new byte[length];
        b[0] = (byte) 0xf0;
        for (int i = 1; i < length - 1; i++) {
            b[i] = (byte) (i % 128);
        }
        b[length - 1] = (byte) 0xf7;
        return MidiMessage.of(b);
    }

    private static int payloadSize(List<MidiMessage> messages) {
        return DatagramCodec.DATA_PREFIX_SIZE + messages.stream().mapToInt(m -> 2 + m.length()).sum();
    }

    private static Malformed malformed(byte[] datagram) {
        return assertInstanceOf(Malformed.class, DatagramCodec.decode(datagram));
    }

    /** A DATA datagram from A to B with a hand-made payload: prefix, then the raw entries as given. */
    private static byte[] dataDatagram(int destinationDevice, int sourceDevice, int count, byte[]... entries) {
        int size = DatagramCodec.DATA_PREFIX_SIZE;
        for (byte[] e : entries) {
            size += e.length;
        }
        byte[] payload = new byte[size];
        payload[0] = (byte) (destinationDevice >> 8);
        payload[1] = (byte) destinationDevice;
        System.arraycopy(A.toBytes(), 0, payload, 2, 16);
        payload[18] = (byte) (sourceDevice >> 8);
        payload[19] = (byte) sourceDevice;
        payload[20] = 0;
        payload[21] = (byte) count;
        int p = DatagramCodec.DATA_PREFIX_SIZE;
        for (byte[] e : entries) {
            System.arraycopy(e, 0, payload, p, e.length);
            p += e.length;
        }
        return withPayload(PacketType.DATA, payload);
    }

    /** A message entry of a DATA payload: u16 length, then the bytes. */
    private static byte[] entry(byte[] message) {
        byte[] e = new byte[2 + message.length];
        e[0] = (byte) (message.length >> 8);
        e[1] = (byte) message.length;
        System.arraycopy(message, 0, e, 2, message.length);
        return e;
    }

    /** A datagram from A to B of the given type, sequence 1, with the payload as given. */
    private static byte[] withPayload(PacketType type, byte[] payload) {
        byte[] header = DatagramCodec.encode(new Packet.Heartbeat(new Header(A, B, 1, TS)));
        byte[] d = Arrays.copyOf(header, header.length + payload.length);
        d[DatagramCodec.OFFSET_TYPE] = (byte) type.code();
        d[DatagramCodec.OFFSET_LENGTH] = (byte) (payload.length >> 8);
        d[DatagramCodec.OFFSET_LENGTH + 1] = (byte) payload.length;
        System.arraycopy(payload, 0, d, DatagramCodec.HEADER_SIZE, payload.length);
        return d;
    }
}
