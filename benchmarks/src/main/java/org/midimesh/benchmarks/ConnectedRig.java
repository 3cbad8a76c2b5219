package org.midimesh.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * One strategy, made outside OSGi, and one CONNECTED connection of it to a fake peer: the handshaker answers at once
 * with {@value #DEVICES} devices, the link only counts what it is given (a blackhole), a listener counts the callbacks.
 * Built and closed by a JMH {@code @Setup}/{@code @TearDown} on one thread; the connection itself is used from any.
 */
final class ConnectedRig implements AutoCloseable {

    static final int DEVICES = 16;
    /** How long setup waits for the handshake to complete. */
    private static final long CONNECT_TIMEOUT_MS = 10_000;

    final String strategyName;
    final NetworkConnection connection;
    final CountingLink link = new CountingLink();
    final CountingListener listener = new CountingListener();
    /** The peer's handshake with {@link #DEVICES} devices, and the same peer announcing a different list. */
    final Handshake peerA;
    final Handshake peerB;
    /** A one-message frame: note on, 3 bytes. */
    final DataFrame noteOn;

    private final StrategyFactory.Started started;

    private ConnectedRig(String benchmark, String strategyName) {
        this.strategyName = strategyName;
        NodeInfo peer = new NodeInfo(NodeId.random(), "bench-peer", "bench-peer-host", "127.0.0.1", 7474, 7475, 7476,
                "bench");
        this.peerA = new Handshake(peer, devices("a"));
        this.peerB = new Handshake(peer, devices("b"));
        this.noteOn = new DataFrame(1, NodeId.random(), 1, 0,
                List.of(MidiMessage.of((byte) 0x90, (byte) 60, (byte) 100)));
        StrategyLog.name(benchmark, strategyName);
        this.started = StrategyFactory.start(strategyName);
        Handshaker handshaker = (host, port) -> peerA;
        try {
            this.connection = started.strategy().create(
                    new ConnectionContext("127.0.0.1", 7474, handshaker, link, Duration.ofSeconds(3)));
        } catch (RuntimeException | Error e) {
            started.stop().run();
            throw e;
        }
    }

    /**
     * Makes the strategy and a connection, connects, and waits until CONNECTED.
     *
     * @param benchmark JMH's description of the benchmark, for the name of the strategy's log file
     * @throws IllegalStateException when the connection is not CONNECTED within 10 s
     */
    static ConnectedRig connect(BenchmarkParams benchmark, String strategyName) {
        String name = benchmark.getBenchmark();
        ConnectedRig rig = new ConnectedRig(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1),
                strategyName);
        try {
            rig.connection.addListener(rig.listener);
            rig.connection.connect();
            rig.awaitState(ConnectionState.CONNECTED);
            return rig;
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    void awaitState(ConnectionState expected) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MS);
        while (connection.getState() != expected) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(strategyName + " connection is " + connection.getState()
                        + ", not " + expected + ", after " + CONNECT_TIMEOUT_MS + " ms");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    /** One line for the JMH log: what the strategy counted, so a result can be read together with it. */
    String summary() {
        String metrics;
        try {
            ConnectionMetrics m = connection.metrics();
            metrics = String.format("queries=%d contention=%.2f%% callbacks=%d commands=%d queue=%d errors=%d"
                    + " dropped=%d", m.totalQueries(), m.contentionPercent(), m.callbacksDispatched(),
                    m.commandsProcessed(), m.queueDepth(), m.errors(), m.droppedMessages());
        } catch (RuntimeException | LinkageError e) {
            metrics = "metrics unavailable (" + e + ")";
        }
        return "[" + strategyName + "] state=" + connection.getState() + " link.data=" + link.data.sum()
                + " listener.calls=" + listener.calls.sum() + " " + metrics + "; " + StrategyLog.summary();
    }

    /** Closes the connection and stops the strategy's threads. */
    @Override
    public void close() {
        try {
            connection.close();
        } finally {
            started.stop().run();
        }
    }

    private static List<DeviceInfo> devices(String tag) {
        List<DeviceInfo> list = new ArrayList<>(DEVICES);
        for (int i = 1; i <= DEVICES; i++) {
            list.add(new DeviceInfo(i, "bench-" + tag + "-" + i, i % 2 == 0 ? DeviceType.INPUT : DeviceType.OUTPUT));
        }
        return List.copyOf(list);
    }

    /** A blackhole link: counts, sends nothing. Thread-safe. */
    static final class CountingLink implements PeerLink {
        final LongAdder data = new LongAdder();
        final LongAdder heartbeats = new LongAdder();
        final LongAdder goodbyes = new LongAdder();

        @Override
        public void sendData(NodeInfo peer, DataFrame frame) {
            data.increment();
        }

        @Override
        public void sendHeartbeat(NodeInfo peer) {
            heartbeats.increment();
        }

        @Override
        public void sendGoodbye(NodeInfo peer) {
            goodbyes.increment();
        }
    }

    /** Stands in for the mesh's listener, so the callback path runs as it does in the server. Thread-safe. */
    static final class CountingListener implements ConnectionListener {
        final LongAdder calls = new LongAdder();

        @Override
        public void stateChanged(NetworkConnection connection, ConnectionState from, ConnectionState to) {
            calls.increment();
        }

        @Override
        public void error(NetworkConnection connection, String message) {
            calls.increment();
        }

        @Override
        public void devicesChanged(NetworkConnection connection, List<DeviceInfo> devices) {
            calls.increment();
        }
    }
}
