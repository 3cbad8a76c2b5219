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
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.strategy.internal.ManagerHost;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * What a consumer of connections has, made outside OSGi: the real strategy manager ({@link ManagerHost}) with one
 * strategy bound and set as the default, and one CONNECTED connection it opened ({@code StrategyControl.open}) to a
 * fake peer. So the benchmarks measure the stable connection the mesh, the pool and routing hold (the manager's
 * forward, its query meter and the strategy's engine), not an engine alone. The handshaker answers at once with
 * {@value #DEVICES} devices, the link only counts what it is given (a blackhole), a listener counts the callbacks.
 * Built and closed by a JMH {@code @Setup}/{@code @TearDown} on one thread; the connection itself is used from any.
 */
final class ConnectedRig implements AutoCloseable {

    static final int DEVICES = 16;
    /** How long setup waits for the handshake to complete. */
    static final long CONNECT_TIMEOUT_MS = 10_000;
    /** Heartbeat timeout of the connections; nothing checks it here ({@code checkHeartbeat} is never called). */
    static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(3);

    final String strategyName;
    final ManagerHost host;
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
        NodeInfo peer = peer(0);
        this.peerA = new Handshake(peer, devices("a"));
        this.peerB = new Handshake(peer, devices("b"));
        this.noteOn = new DataFrame(1, NodeId.random(), 1, 0,
                List.of(MidiMessage.of((byte) 0x90, (byte) 60, (byte) 100)));
        StrategyLog.name(benchmark, strategyName);
        this.started = StrategyFactory.start(strategyName);
        ManagerHost h = null;
        try {
            h = ManagerHost.create(strategyName);
            h.add(started.strategy(), 0);
            this.connection = h.control().open(context(7474, peerA, link));
        } catch (RuntimeException | Error e) {
            if (h != null) {
                h.close();
            }
            started.stop().run();
            throw e;
        }
        this.host = h;
    }

    /**
     * Makes the manager, the strategy and a connection, connects, and waits until CONNECTED on {@code strategyName}.
     *
     * @param benchmark JMH's description of the benchmark, for the name of the strategy's log file
     * @throws IllegalStateException when the connection is not CONNECTED within 10 s, or runs another strategy
     */
    static ConnectedRig connect(BenchmarkParams benchmark, String strategyName) {
        ConnectedRig rig = new ConnectedRig(shortName(benchmark), strategyName);
        try {
            rig.connection.addListener(rig.listener);
            rig.connection.connect();
            awaitState(rig.connection, ConnectionState.CONNECTED, CONNECT_TIMEOUT_MS);
            if (!rig.connection.strategy().equals(strategyName)) {
                throw new IllegalStateException("the manager runs the connection on " + rig.connection.strategy()
                        + ", not " + strategyName);
            }
            return rig;
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    /** {@code Class.method} of the benchmark, for log file names. */
    static String shortName(BenchmarkParams benchmark) {
        String name = benchmark.getBenchmark();
        return name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
    }

    /** A peer's node: {@code index} makes the name and ports differ between the peers of one rig. */
    static NodeInfo peer(int index) {
        return new NodeInfo(NodeId.random(), "bench-peer-" + index, "bench-peer-host", "127.0.0.1", 7474, 7475, 7476,
                "bench");
    }

    /** A context whose handshaker answers at once with {@code answer}, and whose datagrams go to {@code link}. */
    static ConnectionContext context(int httpPort, Handshake answer, PeerLink link) {
        return new ConnectionContext("127.0.0.1", httpPort, (host, port) -> answer, link, HEARTBEAT_TIMEOUT);
    }

    static void awaitState(NetworkConnection connection, ConnectionState expected, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (connection.getState() != expected) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(connection.strategy() + " connection is " + connection.getState()
                        + ", not " + expected + ", after " + timeoutMs + " ms");
            }
            LockSupport.parkNanos(100_000);
        }
    }

    /** One line for the JMH log: what the strategy counted, so a result can be read together with it. */
    String summary() {
        return "[" + strategyName + "] " + describe(connection) + " link.data=" + link.data.sum() + " listener.calls="
                + listener.calls.sum() + "; " + StrategyLog.summary();
    }

    /** The connection's state, strategy and counters (those of its current engine), for a summary line. */
    static String describe(NetworkConnection connection) {
        String metrics;
        try {
            ConnectionMetrics m = connection.metrics();
            metrics = String.format("queries=%d contention=%.2f%% callbacks=%d commands=%d queue=%d errors=%d"
                    + " dropped=%d stalls=%d", m.totalQueries(), m.contentionPercent(), m.callbacksDispatched(),
                    m.commandsProcessed(), m.queueDepth(), m.errors(), m.droppedMessages(), m.stalls());
        } catch (RuntimeException | LinkageError e) {
            metrics = "metrics unavailable (" + e + ")";
        }
        return "state=" + connection.getState() + " on=" + connection.strategy() + " " + metrics;
    }

    /** Closes the connection, stops the manager's threads, then the strategy's. */
    @Override
    public void close() {
        try {
            connection.close();
        } finally {
            try {
                host.close();
            } finally {
                started.stop().run();
            }
        }
    }

    static List<DeviceInfo> devices(String tag) {
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
