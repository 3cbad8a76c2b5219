package org.midimesh.transport.udp.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.transport.DatagramListener;
import org.midimesh.api.transport.TransportStats.Counters;

/** Two transports on 127.0.0.1 talking to each other, plus raw datagrams from a plain socket. */
@Timeout(30)
@ExtendWith(DeadlockWatchdog.class)
class UdpTransportTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final NodeId idA = NodeId.random();
    private final NodeId idB = NodeId.random();
    private final List<UdpTransport> started = new ArrayList<>();
    private UdpTransport a;
    private UdpTransport b;
    private Recorder atA;
    private Recorder atB;
    private NodeInfo peerA;
    private NodeInfo peerB;

    /** Everything a listener was told, with the thread it was told on. */
    static final class Recorder implements DatagramListener {
        record Data(NodeId sender, DataFrame frame, long sequence, long sentAtMicros, String thread) {
        }

        record Heartbeat(NodeId sender, InetSocketAddress from, long rttMicros) {
        }

        final List<Data> data = new CopyOnWriteArrayList<>();
        final List<Heartbeat> heartbeats = new CopyOnWriteArrayList<>();
        final List<NodeId> goodbyes = new CopyOnWriteArrayList<>();

        @Override
        public void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
            data.add(new Data(sender, frame, sequence, sentAtMicros, Thread.currentThread().getName()));
        }

        @Override
        public void heartbeatReceived(NodeId sender, InetSocketAddress from, long roundTripMicros) {
            heartbeats.add(new Heartbeat(sender, from, roundTripMicros));
        }

        @Override
        public void goodbyeReceived(NodeId sender) {
            goodbyes.add(sender);
        }
    }

    @BeforeEach
    void startTwoTransports() {
        a = start(idA, 0);
        b = start(idB, 0);
        atA = new Recorder();
        atB = new Recorder();
        a.addListener(atA);
        b.addListener(atB);
        peerA = TestSupport.peerInfo(idA, a.udpPort());
        peerB = TestSupport.peerInfo(idB, b.udpPort());
    }

    @AfterEach
    void stopAll() {
        started.forEach(UdpTransport::stop);
    }

    private UdpTransport start(NodeId id, int port) {
        UdpTransport t = new UdpTransport(TestSupport.localNode(id, port), TestSupport.defaults());
        started.add(t);
        t.start();
        return t;
    }

    private static DataFrame noteOn(NodeId source) {
        return new DataFrame(2, source, 1, 0, List.of(MidiMessage.parseHex("90 3c 64")));
    }

    @Test
    void shouldBindAFreePortAndReportIt() {
        assertTrue(a.udpPort() > 0);
        assertTrue(b.udpPort() > 0);
        assertTrue(a.udpPort() != b.udpPort());
        assertTrue(a.isReceiving());
    }

    @Test
    void shouldDeliverDataOnTheReceiveThread() {
        DataFrame frame = noteOn(idA);
        a.sendData(peerB, frame);

        await().atMost(WAIT).until(() -> atB.data.size() == 1);
        Recorder.Data got = atB.data.get(0);
        assertEquals(idA, got.sender());
        assertEquals(frame, got.frame());
        assertEquals(0, got.sequence());
        assertTrue(got.sentAtMicros() > 1_600_000_000_000_000L, "microseconds since the epoch");
        assertEquals(UdpTransport.RX_THREAD_NAME, got.thread());

        assertEquals(new Counters(0, 1, 0, 77, 0, 0, 0), a.total());
        assertEquals(new Counters(0, 1, 0, 77, 0, 0, 0), a.perPeer().get(idB));
        await().atMost(WAIT).until(() -> b.total().datagramsIn() == 1);
        assertEquals(new Counters(1, 0, 77, 0, 0, 0, 0), b.total());
        assertEquals(new Counters(1, 0, 77, 0, 0, 0, 0), b.perPeer().get(idA));
    }

    @Test
    void shouldNumberDataInOrder() {
        for (int i = 0; i < 5; i++) {
            a.sendData(peerB, noteOn(idA));
        }
        await().atMost(WAIT).until(() -> atB.data.size() == 5);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), atB.data.stream().map(Recorder.Data::sequence).toList());
    }

    @Test
    void shouldAnswerAHeartbeatWithAReplyCarryingTheRoundTrip() {
        a.sendHeartbeat(peerB);

        await().atMost(WAIT).until(() -> atB.heartbeats.size() == 1);
        Recorder.Heartbeat atReceiver = atB.heartbeats.get(0);
        assertEquals(idA, atReceiver.sender());
        assertEquals(-1, atReceiver.rttMicros());
        assertEquals(new InetSocketAddress(InetAddress.getLoopbackAddress(), a.udpPort()), atReceiver.from());

        await().atMost(WAIT).until(() -> atA.heartbeats.size() == 1);
        Recorder.Heartbeat atSender = atA.heartbeats.get(0);
        assertEquals(idB, atSender.sender());
        assertTrue(atSender.rttMicros() >= 0, "rtt " + atSender.rttMicros());
        assertEquals(new InetSocketAddress(InetAddress.getLoopbackAddress(), b.udpPort()), atSender.from());
        await().atMost(WAIT).until(() -> b.total().datagramsOut() == 1);
    }

    @Test
    void shouldPassAGoodbyeOn() {
        a.sendGoodbye(peerB);
        await().atMost(WAIT).until(() -> atB.goodbyes.equals(List.of(idA)));
    }

    @Test
    void shouldDeliverALargeFrameAsSeveralFramesInOrder() {
        List<MidiMessage> messages = DatagramCodecTest.ccs(1000);
        a.sendData(peerB, new DataFrame(2, idA, 1, 0, messages));

        await().atMost(WAIT).until(() -> atB.data.size() == 4);
        List<MidiMessage> reassembled = new ArrayList<>();
        atB.data.forEach(d -> reassembled.addAll(d.frame().messages()));
        assertEquals(messages, reassembled);
        assertEquals(List.of(0L, 1L, 2L, 3L), atB.data.stream().map(Recorder.Data::sequence).toList());
        assertEquals(4, a.total().datagramsOut());
    }

    @Test
    void shouldRefuseAMessageTooLongForADatagramAndSendNothing() {
        DataFrame frame = new DataFrame(2, idA, 1, 0,
                List.of(MidiMessage.parseHex("90 3c 64"), DatagramCodecTest.sysEx(2000)));
        assertThrows(IllegalArgumentException.class, () -> a.sendData(peerB, frame));
        assertEquals(0, a.total().datagramsOut());
    }

    @Test
    void shouldCountGarbageAsMalformedAndKeepWorking() throws Exception {
        try (DatagramSocket raw = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            byte[] garbage = "not a midimesh datagram".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            raw.send(new DatagramPacket(garbage, garbage.length, InetAddress.getLoopbackAddress(), b.udpPort()));
            await().atMost(WAIT).until(() -> b.total().malformed() == 1);
        }
        assertTrue(b.isReceiving());
        assertTrue(b.perPeer().isEmpty(), "the sender of garbage is unknown");

        a.sendData(peerB, noteOn(idA));
        await().atMost(WAIT).until(() -> atB.data.size() == 1);
        assertEquals(2, b.total().datagramsIn());
        assertEquals(1, b.total().malformed());
    }

    @Test
    void shouldCountAMalformedDatagramAgainstItsReadableSender() throws Exception {
        byte[] d = DatagramCodec.encode(new Packet.Data(new Header(idA, idB, 0, 1), noteOn(idA)));
        d[d.length - 1] = (byte) 0xff; // velocity above 7f
        sendRaw(d);
        await().atMost(WAIT).until(() -> b.total().malformed() == 1);
        assertEquals(1, b.perPeer().get(idA).malformed());
        assertTrue(atB.data.isEmpty());
    }

    @Test
    void shouldDropADatagramForAnotherNodeAsMisaddressed() throws Exception {
        NodeId other = NodeId.random();
        sendRaw(DatagramCodec.encode(new Packet.Data(new Header(idA, other, 0, 1), noteOn(idA))));
        await().atMost(WAIT).until(() -> b.total().malformed() == 1);
        assertEquals(1, b.perPeer().get(idA).malformed());

        a.sendData(peerB, noteOn(idA));
        await().atMost(WAIT).until(() -> atB.data.size() == 1);
        assertEquals(0, atB.data.get(0).sequence(), "the misaddressed datagram did not advance the stream");
    }

    @Test
    void shouldCountGapsAndDropDuplicatesAndLateDatagrams() throws Exception {
        NodeId x = NodeId.random();
        for (long[] seqAndTime : new long[][] {{0, 100}, {0, 100}, {3, 103}, {1, 101}, {4, 104}}) {
            sendRaw(DatagramCodec.encode(new Packet.Data(new Header(x, idB, seqAndTime[0], seqAndTime[1]),
                    noteOn(x))));
        }
        await().atMost(WAIT).until(() -> b.total().datagramsIn() == 5);
        await().atMost(WAIT).until(() -> atB.data.size() == 3);
        assertEquals(List.of(0L, 3L, 4L), atB.data.stream().map(Recorder.Data::sequence).toList());
        assertEquals(2, b.perPeer().get(x).realtimeDrops());
        assertEquals(2, b.total().realtimeDrops());
        assertEquals(2, b.staleDropped());
    }

    @Test
    void shouldKeepTheDataAndControlStreamsApart() throws Exception {
        NodeId x = NodeId.random();
        sendRaw(DatagramCodec.encode(new Packet.Data(new Header(x, idB, 0, 100), noteOn(x))));
        sendRaw(DatagramCodec.encode(new Packet.Goodbye(new Header(x, idB, 0, 101))));
        sendRaw(DatagramCodec.encode(new Packet.Data(new Header(x, idB, 0, 102), noteOn(x))));
        await().atMost(WAIT).until(() -> atB.data.size() == 2);
        assertEquals(List.of(x), atB.goodbyes);
        assertEquals(0, b.staleDropped(), "a goodbye resets the sender's numbering");
    }

    @Test
    void shouldGoOnWhenAListenerThrows() {
        b.removeListener(atB);
        b.addListener(new DatagramListener() {
            @Override
            public void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
                throw new IllegalStateException("listener failure for the test");
            }
        });
        b.addListener(atB);

        a.sendData(peerB, noteOn(idA));
        a.sendData(peerB, noteOn(idA));
        await().atMost(WAIT).until(() -> atB.data.size() == 2);
        assertEquals(2, b.listenerFailures());
        assertTrue(b.isReceiving());
    }

    @Test
    void shouldFailActivationNamingAPortInUse() {
        int port = a.udpPort();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new UdpTransport(TestSupport.localNode(NodeId.random(), port), TestSupport.defaults()));
        assertTrue(e.getMessage().contains("UDP port " + port), e.getMessage());
    }

    @Test
    void shouldRejectAnOutOfRangeBufferSizeNamingTheAttribute() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(TestSupport.localNode(NodeId.random(), 0),
                        TestSupport.config(Map.of("receive_buffer_bytes", 0))));
        assertTrue(e.getMessage().contains("receive_buffer_bytes"), e.getMessage());
    }

    @Test
    void shouldStopItsThreadAndCountSendsAfterStopWithoutThrowing() {
        a.stop();
        assertFalse(a.isReceiving());
        assertFalse(a.rxThreadAlive(), "joined in stop()");
        a.sendData(peerB, noteOn(idA));
        a.sendHeartbeat(peerB);
        assertEquals(2, a.sendErrors());
        a.stop();
    }

    @Test
    void shouldCountASendToAnUnresolvableAddress() {
        NodeInfo nowhere = new NodeInfo(idB, "b", "h", "no-such-host.invalid", 7474, 7475, 7476, "test");
        a.sendData(nowhere, noteOn(idA));
        assertEquals(1, a.sendErrors());
        assertEquals(0, a.total().datagramsOut());
    }

    @Test
    void shouldKeepSendOrderAcrossConcurrentSenders() throws Exception {
        int threads = 4;
        int perThread = 50;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int sourceDevice = t + 1;
            Thread s = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    a.sendData(peerB, new DataFrame(2, idA, sourceDevice, 0,
                            List.of(MidiMessage.of((byte) 0xb0, (byte) 1, (byte) i))));
                }
            }, "midimesh-test-sender-" + t);
            senders.add(s);
            s.start();
        }
        go.countDown();
        for (Thread s : senders) {
            s.join(TimeUnit.SECONDS.toMillis(10));
        }
        int total = threads * perThread;
        assertEquals(total, a.total().datagramsOut());
        await().atMost(WAIT).until(() -> atB.data.size() + b.total().realtimeDrops() >= total);
        assertEquals(0, b.staleDropped(), "numbering and sending are one step, so nothing arrives out of order");
        long previous = -1;
        int[] lastValue = new int[threads + 1];
        java.util.Arrays.fill(lastValue, -1);
        for (Recorder.Data d : atB.data) {
            assertTrue(d.sequence() > previous, "sequence " + d.sequence() + " after " + previous);
            previous = d.sequence();
            int value = d.frame().messages().get(0).byteAt(2);
            assertTrue(value > lastValue[d.frame().sourceDevice()], "per-thread order");
            lastValue[d.frame().sourceDevice()] = value;
        }
    }

    private void sendRaw(byte[] datagram) throws Exception {
        try (DatagramSocket raw = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            raw.send(new DatagramPacket(datagram, datagram.length, InetAddress.getLoopbackAddress(), b.udpPort()));
        }
    }
}
