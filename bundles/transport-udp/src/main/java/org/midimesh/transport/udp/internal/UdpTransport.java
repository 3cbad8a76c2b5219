package org.midimesh.transport.udp.internal;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.transport.DatagramListener;
import org.midimesh.api.transport.TransportStats;
import org.midimesh.common.NamedThreadFactory;
import org.midimesh.transport.udp.internal.DecodeResult.Decoded;
import org.midimesh.transport.udp.internal.DecodeResult.Malformed;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The realtime datagram transport: one UDP socket on {@code LocalNode.bindAddress():udpPort()}, carrying the wire format
 * of docs/protocol.md. It sends for anyone ({@link PeerLink}, thread-safe), receives on its own thread
 * {@code midimesh-udp-rx}, answers heartbeats itself, and hands every decoded datagram to the {@link DatagramListener}
 * services on that thread. Malformed, misaddressed, duplicated and late datagrams are counted and dropped.
 * <p>Ordering of sends: a sender numbers its datagrams per destination and stream, and the receiver drops a datagram
 * older than one it already delivered. So numbering and sending happen together under the monitor of that stream's
 * {@link SendStream}; otherwise two threads sending to one peer could put numbers 6 then 5 on the wire and lose 5. The
 * monitor covers only the counter and the kernel send: no listener, service or other lock is ever called under it, and
 * it is the only lock in this class, so it cannot take part in a deadlock.
 */
@Component(immediate = true, service = {PeerLink.class, TransportStats.class}, configurationPid = UdpTransport.PID)
@Designate(ocd = UdpTransport.Config.class)
public final class UdpTransport implements PeerLink, TransportStats, Warmable {

    public static final String PID = "org.midimesh.transport.udp";
    public static final String RX_THREAD_NAME = "midimesh-udp-rx";
    public static final int DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
    public static final int DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024;
    /** Per-peer tables stop growing here, so datagrams with forged sender ids cannot exhaust memory. */
    static final int MAX_TRACKED_PEERS = 4096;
    static final long LOG_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final long JOIN_MILLIS = 2_000;
    /** Larger than any UDP datagram, so the kernel never cuts one short and an oversize datagram is seen as such. */
    private static final int RECEIVE_ARRAY_SIZE = 65_536;
    private static final int MAX_BUFFER_BYTES = 1 << 30;
    private static final int WARM_UP_BUFFER_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(UdpTransport.class);

    /** Configuration of the transport (PID {@value UdpTransport#PID}). */
    @ObjectClassDefinition(id = PID, name = "MidiMesh UDP transport",
            description = "Socket settings of the realtime datagram transport")
    public @interface Config {
        @AttributeDefinition(name = "Receive buffer (bytes)", min = "1",
                description = "SO_RCVBUF asked of the OS; bursts wait here while the receive thread is busy. "
                        + "The OS may grant less (Linux: net.core.rmem_max); the granted size is logged")
        int receive_buffer_bytes() default DEFAULT_RECEIVE_BUFFER_BYTES;

        @AttributeDefinition(name = "Send buffer (bytes)", min = "1",
                description = "SO_SNDBUF asked of the OS (Linux caps it at net.core.wmem_max)")
        int send_buffer_bytes() default DEFAULT_SEND_BUFFER_BYTES;
    }

    private enum State {
        BOUND, RUNNING, CLOSED
    }

    /** Key of a sequence stream: one peer, one stream class. */
    private record StreamKey(NodeId peer, PacketType.Stream stream) {
    }

    /** Outgoing numbering of one stream; {@code next} is guarded by the instance monitor. */
    private static final class SendStream {
        private long next;
    }

    private final NodeId localId;
    /** True for the private instances of a warm-up: no INFO lines. */
    private final boolean quiet;
    private final DatagramSocket socket;
    private final int boundPort;
    private final String bindText;
    private final EpochMicros clock = new EpochMicros();
    private final LogThrottle throttle = new LogThrottle(LOG_PERIOD_NANOS, System::nanoTime);

    // Lifecycle; CAS BOUND -> RUNNING (start) and any -> CLOSED (stop). The rx loop reads it (volatile read) to stop.
    private final AtomicReference<State> state = new AtomicReference<>(State.BOUND);
    // Written by start() before Thread.start (which publishes it to the thread); read by stop() on another framework
    // thread, hence volatile.
    private volatile Thread rxThread;
    // Set once by the rx thread's uncaught-exception handler; read by isReceiving(). Publishes only itself.
    private volatile Throwable rxFailure;

    // DYNAMIC MULTIPLE reference: bound and unbound on framework threads; the rx thread iterates a snapshot.
    private final CopyOnWriteArrayList<DatagramListener> listeners = new CopyOnWriteArrayList<>();

    private final ConcurrentHashMap<StreamKey, SendStream> sendStreams = new ConcurrentHashMap<>();
    /**
     * Resolved peer addresses by "host:port", so a peer given by host name costs one lookup, not one per JVM DNS cache
     * expiry on the send path. Only successful lookups are kept; cleared when it reaches its bound.
     */
    private final ConcurrentHashMap<String, InetSocketAddress> resolved = new ConcurrentHashMap<>();
    /** Receive thread only. */
    private final Map<StreamKey, SequenceTracker> receiveStreams = new HashMap<>();

    private final PeerCounters total = new PeerCounters();
    private final ConcurrentHashMap<NodeId, PeerCounters> perPeer = new ConcurrentHashMap<>();
    // Statistics only (any thread adds, readers sum); they publish nothing else.
    private final LongAdder sendErrors = new LongAdder();
    private final LongAdder listenerFailures = new LongAdder();

    /**
     * Binds the socket; the receive thread starts in {@link #start}, after the listeners present at start-up are bound.
     *
     * @throws IllegalStateException naming the port when it cannot be bound
     * @throws IllegalArgumentException naming the attribute when the configuration is out of range
     */
    @Activate
    public UdpTransport(@Reference(name = "LocalNode") LocalNode localNode, Config config) {
        this(Objects.requireNonNull(localNode.id(), "local node id"), localNode.bindAddress(), localNode.udpPort(),
                checkBufferSize("receive_buffer_bytes", config.receive_buffer_bytes()),
                checkBufferSize("send_buffer_bytes", config.send_buffer_bytes()), false);
    }

    /** {@code quiet}: a private instance of {@link #warmUp}, which logs nothing at INFO. */
    private UdpTransport(NodeId localId, String bindAddress, int port, int receiveBuffer, int sendBuffer,
            boolean quiet) {
        this.localId = localId;
        this.quiet = quiet;
        this.socket = bind(bindAddress, port, receiveBuffer, sendBuffer);
        this.boundPort = socket.getLocalPort();
        this.bindText = bindAddress + ":" + boundPort;
        if (!quiet) {
            LOG.info("activated, udp {} node {}, receive buffer {} bytes (asked {}), send buffer {} bytes (asked {})",
                    bindText, localId, grantedReceiveBuffer(), receiveBuffer, grantedSendBuffer(), sendBuffer);
        }
    }

    /**
     * Runs the datagram path on private transports of its own ({@link TransportWarmup}); this transport's socket,
     * counters and listeners are not touched. On the node's warm-up thread.
     */
    @Override
    public String warmUp(Duration budget) {
        return TransportWarmup.run(budget);
    }

    /** A private transport for {@link TransportWarmup}: its own socket on {@code address}, no INFO lines. */
    static UdpTransport privateInstance(String address) {
        return new UdpTransport(NodeId.random(), address, 0, WARM_UP_BUFFER_BYTES, WARM_UP_BUFFER_BYTES, true);
    }

    /** This transport's node id and bound port, for {@link TransportWarmup}. */
    NodeId localId() {
        return localId;
    }

    int boundPort() {
        return boundPort;
    }

    private static int checkBufferSize(String attribute, int value) {
        if (value < 1 || value > MAX_BUFFER_BYTES) {
            throw new IllegalArgumentException(PID + ": " + attribute + " must be 1.." + MAX_BUFFER_BYTES + ", not "
                    + value);
        }
        return value;
    }

    private static DatagramSocket bind(String address, int port, int receiveBuffer, int sendBuffer) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("udp port must be 0..65535, not " + port);
        }
        InetSocketAddress at = new InetSocketAddress(address, port);
        if (at.isUnresolved()) {
            throw new IllegalStateException("cannot bind UDP port " + port + ": bind address " + address
                    + " does not resolve");
        }
        DatagramSocket s = null;
        try {
            s = new DatagramSocket((SocketAddress) null);
            s.setReuseAddress(false);
            s.setReceiveBufferSize(receiveBuffer);
            s.setSendBufferSize(sendBuffer);
            s.bind(at);
            return s;
        } catch (IOException e) {
            if (s != null) {
                s.close();
            }
            throw new IllegalStateException("cannot bind UDP port " + port + " on " + address + ": " + e.getMessage(),
                    e);
        }
    }

    /** Starts the receive thread. Called once by DS after the constructor and the initial listener binds. */
    @Activate
    public void start() {
        if (!state.compareAndSet(State.BOUND, State.RUNNING)) {
            throw new IllegalStateException("transport on " + bindText + " is " + state.get() + ", cannot start");
        }
        Thread t = new NamedThreadFactory(RX_THREAD_NAME, false, e -> rxFailure = e).newThread(this::receiveLoop);
        rxThread = t;
        try {
            t.start();
        } catch (RuntimeException | Error e) {
            stop();
            throw e;
        }
    }

    /** Closes the socket and waits up to 2 s for the receive thread. Idempotent. */
    @Deactivate
    public void stop() {
        State previous = state.getAndSet(State.CLOSED);
        if (previous == State.CLOSED) {
            return;
        }
        socket.close();
        Thread t = rxThread;
        if (t != null && t != Thread.currentThread()) {
            boolean interrupted = false;
            try {
                t.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                interrupted = true; // whoever stops us gave up waiting (a node stopped during its warm-up): no timeout
                Thread.currentThread().interrupt();
            }
            if (t.isAlive() && !interrupted) {
                LOG.error("thread {} did not stop within {} ms after its socket closed", RX_THREAD_NAME, JOIN_MILLIS);
            }
        }
        if (!quiet) {
            LOG.info("deactivated, udp {}", bindText);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeListener")
    public void addListener(DatagramListener listener) {
        listeners.addIfAbsent(listener);
    }

    public void removeListener(DatagramListener listener) {
        listeners.remove(listener);
    }

    // ---------------------------------------------------------------- PeerLink

    /**
     * Sends a frame, split into several datagrams in order when it does not fit in one. Thread-safe. A send failure is
     * counted and logged, never thrown.
     *
     * @throws IllegalArgumentException when a message alone is longer than {@link DatagramCodec#MAX_MESSAGE_SIZE}: it
     *                                  belongs on the reliable channel. Nothing of the frame is sent then.
     */
    @Override
    public void sendData(NodeInfo peer, DataFrame frame) {
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(frame, "frame");
        List<DataFrame> parts = DatagramCodec.split(frame);
        Header unnumbered = new Header(localId, peer.id(), 0, 0);
        List<byte[]> datagrams = new ArrayList<>(parts.size());
        for (DataFrame part : parts) {
            datagrams.add(DatagramCodec.encode(new Packet.Data(unnumbered, part)));
        }
        send(peer.id(), peer.address(), peer.udpPort(), PacketType.Stream.DATA, datagrams);
    }

    @Override
    public void sendHeartbeat(NodeInfo peer) {
        Objects.requireNonNull(peer, "peer");
        byte[] d = DatagramCodec.encode(new Packet.Heartbeat(new Header(localId, peer.id(), 0, 0)));
        send(peer.id(), peer.address(), peer.udpPort(), PacketType.Stream.CONTROL, List.of(d));
    }

    @Override
    public void sendGoodbye(NodeInfo peer) {
        Objects.requireNonNull(peer, "peer");
        byte[] d = DatagramCodec.encode(new Packet.Goodbye(new Header(localId, peer.id(), 0, 0)));
        send(peer.id(), peer.address(), peer.udpPort(), PacketType.Stream.CONTROL, List.of(d));
    }

    private void send(NodeId destination, String host, int port, PacketType.Stream stream, List<byte[]> datagrams) {
        String key = host + ":" + port;
        InetSocketAddress target = resolved.get(key);
        if (target == null) {
            target = new InetSocketAddress(host, port);
            if (target.isUnresolved()) {
                sendErrors.add(datagrams.size());
                logSendFailure(destination, target, "address does not resolve");
                return;
            }
            if (resolved.size() >= MAX_TRACKED_PEERS) {
                resolved.clear();
            }
            resolved.put(key, target);
        }
        send(destination, target, stream, datagrams);
    }

    /** Numbers, stamps and sends the datagrams of one stream, in order; see the class comment for the monitor. */
    private void send(NodeId destination, InetSocketAddress target, PacketType.Stream stream, List<byte[]> datagrams) {
        if (state.get() == State.CLOSED) {
            sendErrors.add(datagrams.size());
            logSendFailure(destination, target, "transport is closed");
            return;
        }
        PeerCounters peer = countersFor(destination);
        SendStream s = sendStreamFor(new StreamKey(destination, stream));
        IOException failure = null;
        synchronized (s) {
            for (byte[] d : datagrams) {
                long sequence = s.next;
                s.next = (sequence + 1) & DatagramCodec.MAX_SEQUENCE;
                DatagramCodec.patchSequenceAndTimestamp(d, sequence, clock.now());
                try {
                    socket.send(new DatagramPacket(d, d.length, target));
                    total.sent(d.length);
                    if (peer != null) {
                        peer.sent(d.length);
                    }
                } catch (IOException e) {
                    sendErrors.increment();
                    failure = e;
                }
            }
        }
        if (failure != null) {
            logSendFailure(destination, target, failure.toString());
        }
    }

    private void logSendFailure(NodeId destination, InetSocketAddress target, String why) {
        long suppressed = throttle.permit("send " + destination);
        if (suppressed >= 0) {
            LOG.warn("cannot send to node {} at {}: {} ({} more failures in the last 10 s not logged)", destination,
                    target, why, suppressed);
        } else {
            LOG.trace("cannot send to node {} at {}: {}", destination, target, why);
        }
    }

    private SendStream sendStreamFor(StreamKey key) {
        SendStream s = sendStreams.get(key);
        if (s != null) {
            return s;
        }
        if (sendStreams.size() >= 2 * MAX_TRACKED_PEERS) {
            warnTableFull("send streams");
            // Untracked: numbering restarts at 0 for each send; the receiver resynchronises on the newer timestamp.
            return new SendStream();
        }
        return sendStreams.computeIfAbsent(key, k -> new SendStream());
    }

    // ---------------------------------------------------------------- TransportStats

    @Override
    public Counters total() {
        return total.snapshot();
    }

    @Override
    public Map<NodeId, Counters> perPeer() {
        Map<NodeId, Counters> out = new HashMap<>();
        perPeer.forEach((id, c) -> out.put(id, c.snapshot()));
        return Map.copyOf(out);
    }

    @Override
    public int udpPort() {
        return boundPort;
    }

    /** Datagrams that could not be sent (I/O error, unresolvable address, closed transport). */
    public long sendErrors() {
        return sendErrors.sum();
    }

    /** Duplicated or late datagrams dropped, in total. */
    public long staleDropped() {
        return total.stale.sum();
    }

    /** Listener calls that threw. */
    public long listenerFailures() {
        return listenerFailures.sum();
    }

    /** False once the receive thread died of an unexpected error (it is logged at ERROR) or the transport stopped. */
    public boolean isReceiving() {
        Thread t = rxThread;
        return state.get() == State.RUNNING && rxFailure == null && t != null && t.isAlive();
    }

    boolean rxThreadAlive() {
        Thread t = rxThread;
        return t != null && t.isAlive();
    }

    int grantedReceiveBuffer() {
        try {
            return socket.getReceiveBufferSize();
        } catch (SocketException e) {
            return -1;
        }
    }

    int grantedSendBuffer() {
        try {
            return socket.getSendBufferSize();
        } catch (SocketException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- receive thread

    private void receiveLoop() {
        byte[] buf = new byte[RECEIVE_ARRAY_SIZE];
        DatagramPacket packet = new DatagramPacket(buf, buf.length);
        while (state.get() == State.RUNNING) {
            packet.setData(buf);
            try {
                socket.receive(packet);
            } catch (IOException e) {
                if (state.get() != State.RUNNING || socket.isClosed()) {
                    break;
                }
                if (throttle.permit("receive") >= 0) {
                    LOG.error("receive on udp {} failed; going on", bindText, e);
                }
                continue;
            }
            try {
                handleDatagram(buf, packet.getLength(), (InetSocketAddress) packet.getSocketAddress());
            } catch (Throwable t) {
                if (throttle.permit("handle") >= 0) {
                    LOG.error("datagram from {} could not be handled; dropped", packet.getSocketAddress(), t);
                }
            }
        }
        LOG.debug("{} stopped", RX_THREAD_NAME);
    }

    /** Receive thread only. */
    private void handleDatagram(byte[] buf, int length, InetSocketAddress from) {
        DecodeResult result = DatagramCodec.decode(buf, 0, length);
        Optional<NodeId> sender = result instanceof Decoded d ? Optional.of(d.packet().header().sender())
                : ((Malformed) result).sender();
        PeerCounters peer = sender.map(this::countersFor).orElse(null);
        total.received(length);
        if (peer != null) {
            peer.received(length);
        }
        if (result instanceof Malformed m) {
            dropMalformed(m, from, peer);
            return;
        }
        Packet p = ((Decoded) result).packet();
        Header h = p.header();
        if (!h.destination().equals(localId)) {
            dropMalformed(new Malformed(MalformedReason.MISADDRESSED, "addressed to node " + h.destination()
                    + ", this node is " + localId, sender), from, peer);
            return;
        }
        StreamKey key = new StreamKey(h.sender(), p.type().stream());
        SequenceTracker.Verdict verdict = trackerFor(key).accept(h.sequence(), h.timestampMicros());
        switch (verdict.kind()) {
            case STALE:
                total.stale.increment();
                if (peer != null) {
                    peer.stale.increment();
                }
                LOG.trace("dropped {} seq {} from {}: duplicate or late", p.type(), h.sequence(), h.sender());
                return;
            case GAP:
                total.realtimeDrops.add(verdict.missing());
                if (peer != null) {
                    peer.realtimeDrops.add(verdict.missing());
                }
                break;
            case RESYNC:
                LOG.debug("node {} restarted its {} sequence at {}", h.sender(), key.stream(), h.sequence());
                break;
            default:
                break;
        }
        dispatch(p, from);
    }

    private void dispatch(Packet p, InetSocketAddress from) {
        NodeId sender = p.header().sender();
        if (p instanceof Packet.Data d) {
            for (DatagramListener l : listeners) {
                try {
                    l.dataReceived(sender, d.frame(), d.header().sequence(), d.header().timestampMicros());
                } catch (Throwable t) {
                    listenerFailed(l, "dataReceived", t);
                }
            }
        } else if (p instanceof Packet.Heartbeat) {
            byte[] reply = DatagramCodec.encode(new Packet.HeartbeatReply(new Header(localId, sender, 0, 0),
                    p.header().timestampMicros()));
            send(sender, from, PacketType.Stream.CONTROL, List.of(reply));
            notifyHeartbeat(sender, from, -1);
        } else if (p instanceof Packet.HeartbeatReply r) {
            notifyHeartbeat(sender, from, Math.max(0, clock.now() - r.echoedTimestampMicros()));
        } else if (p instanceof Packet.Goodbye) {
            // The sender's numbering starts afresh if it comes back.
            receiveStreams.remove(new StreamKey(sender, PacketType.Stream.DATA));
            receiveStreams.remove(new StreamKey(sender, PacketType.Stream.CONTROL));
            for (DatagramListener l : listeners) {
                try {
                    l.goodbyeReceived(sender);
                } catch (Throwable t) {
                    listenerFailed(l, "goodbyeReceived", t);
                }
            }
        } else {
            LOG.trace("ignored {} from {}: the reliable channel does not use datagrams yet", p.type(), sender);
        }
    }

    private void notifyHeartbeat(NodeId sender, InetSocketAddress from, long rttMicros) {
        for (DatagramListener l : listeners) {
            try {
                l.heartbeatReceived(sender, from, rttMicros);
            } catch (Throwable t) {
                listenerFailed(l, "heartbeatReceived", t);
            }
        }
    }

    private void listenerFailed(DatagramListener l, String method, Throwable t) {
        listenerFailures.increment();
        long suppressed = throttle.permit(l);
        if (suppressed >= 0) {
            LOG.error("listener {} threw from {}; the datagram went on to the other listeners ({} more failures in "
                    + "the last 10 s not logged)", l.getClass().getName(), method, suppressed, t);
        }
    }

    private void dropMalformed(Malformed m, InetSocketAddress from, PeerCounters peer) {
        total.malformed.increment();
        if (peer != null) {
            peer.malformed.increment();
        }
        Object key = m.sender().<Object>map(s -> s).orElse(from);
        long suppressed = throttle.permit(key);
        if (suppressed >= 0) {
            LOG.warn("dropped a malformed datagram from {}{}: {}: {} ({} more from this sender in the last 10 s not "
                    + "logged)", from, m.sender().map(s -> " (node " + s + ")").orElse(""), m.reason().label(),
                    m.detail(), suppressed);
        } else {
            LOG.trace("dropped a malformed datagram from {}: {}: {}", from, m.reason().label(), m.detail());
        }
    }

    private SequenceTracker trackerFor(StreamKey key) {
        SequenceTracker t = receiveStreams.get(key);
        if (t == null) {
            t = new SequenceTracker();
            if (receiveStreams.size() < 2 * MAX_TRACKED_PEERS) {
                receiveStreams.put(key, t);
            } else {
                warnTableFull("receive streams");
            }
        }
        return t;
    }

    private PeerCounters countersFor(NodeId id) {
        PeerCounters c = perPeer.get(id);
        if (c != null) {
            return c;
        }
        if (perPeer.size() >= MAX_TRACKED_PEERS) {
            warnTableFull("per-peer counters");
            return null;
        }
        return perPeer.computeIfAbsent(id, k -> new PeerCounters());
    }

    private void warnTableFull(String table) {
        if (throttle.permit("full " + table) >= 0) {
            LOG.warn("the table of {} is full ({} peers); further peers are not tracked in it", table,
                    MAX_TRACKED_PEERS);
        }
    }
}
