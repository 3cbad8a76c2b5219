package org.midimesh.strategy.internal;

import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.transport.DataFrame;

/**
 * A small strategy for the manager's tests: engines guarded by their monitor, events on one thread of the strategy,
 * sends straight to the link, and totals a test can set ({@link #report}) to drive the policy. Thread-safe.
 */
final class FakeStrategy implements ConnectionStrategy {

    private final String name;
    private final ExecutorService events;
    final Set<ConnectionEngine> open = ConcurrentHashMap.newKeySet();
    final AtomicInteger created = new AtomicInteger();
    final AtomicInteger adopted = new AtomicInteger();
    /** What metrics() returns; null: zeros. */
    final AtomicReference<ConnectionMetrics> report = new AtomicReference<>();

    FakeStrategy(String name) {
        this.name = name;
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "midimesh-test-fake-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    void stop() throws InterruptedException {
        events.shutdown();
        events.awaitTermination(5, TimeUnit.SECONDS);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ConnectionEngine create(ConnectionContext context, EngineEvents sink) {
        created.incrementAndGet();
        Engine e = new Engine(context, sink, DISCONNECTED, null, List.of());
        open.add(e);
        return e;
    }

    @Override
    public ConnectionEngine adopt(Handover h, EngineEvents sink) {
        adopted.incrementAndGet();
        Engine e = new Engine(h.context(), sink, h.state(), h.peer().map(Handshake::node).orElse(null),
                h.peer().map(Handshake::devices).orElse(List.of()));
        if (h.state() == CONNECTED) {
            h.queuedFrames().forEach(f -> h.context().link().sendData(e.node, f));
        }
        open.add(e);
        return e;
    }

    @Override
    public ConnectionMetrics metrics() {
        ConnectionMetrics m = report.get();
        return m != null ? m : new ConnectionMetrics(name, 0, 0, 0, 0, 0, ConnectionMetrics.LatencySummary.EMPTY, 0,
                0, 0);
    }

    final class Engine implements ConnectionEngine {
        final ConnectionContext context;
        final EngineEvents sink;
        ConnectionState state;
        NodeInfo node;
        List<DeviceInfo> devices;
        boolean handingOver;
        boolean done;

        Engine(ConnectionContext context, EngineEvents sink, ConnectionState state, NodeInfo node,
                List<DeviceInfo> devices) {
            this.context = context;
            this.sink = sink;
            this.state = state;
            this.node = node;
            this.devices = devices;
        }

        private synchronized void check() {
            if (handingOver || done) {
                throw new IllegalStateException("command while handing over or after");
            }
        }

        private void to(ConnectionState next) {
            ConnectionState from;
            synchronized (this) {
                from = state;
                state = next;
            }
            if (from != next) {
                events.execute(() -> sink.stateChanged(from, next));
            }
        }

        @Override
        public void connect() {
            check();
            to(CONNECTING);
        }

        @Override
        public void disconnect() {
            check();
            to(DISCONNECTED);
        }

        @Override
        public void handshakeCompleted(Handshake peer) {
            check();
            synchronized (this) {
                node = peer.node();
                devices = peer.devices();
            }
            to(CONNECTED);
        }

        @Override
        public void goodbyeReceived() {
            check();
            to(DISCONNECTED);
        }

        @Override
        public void notifyHeartbeat() {
            check();
        }

        @Override
        public void checkHeartbeat() {
            check();
        }

        @Override
        public boolean send(DataFrame frame) {
            check();
            NodeInfo target;
            synchronized (this) {
                target = state == CONNECTED ? node : null;
            }
            if (target == null) {
                return false;
            }
            context.link().sendData(target, frame);
            return true;
        }

        @Override
        public synchronized ConnectionState getState() {
            return state;
        }

        @Override
        public synchronized Optional<NodeId> getRemoteId() {
            return node == null ? Optional.empty() : Optional.of(node.id());
        }

        @Override
        public synchronized Optional<NodeInfo> getRemoteNode() {
            return Optional.ofNullable(node);
        }

        @Override
        public synchronized List<DeviceInfo> getRemoteDevices() {
            return devices;
        }

        @Override
        public long getTimeSinceLastHeartbeat() {
            return 0;
        }

        @Override
        public ConnectionMetrics metrics() {
            return FakeStrategy.this.metrics();
        }

        @Override
        public synchronized Handover beginHandover() {
            if (handingOver || done) {
                throw new IllegalStateException("already handing over or done");
            }
            handingOver = true;
            return new Handover(context, state, node == null ? Optional.empty()
                    : Optional.of(new Handshake(node, devices)), System.nanoTime(), List.of());
        }

        @Override
        public synchronized void completeHandover() {
            done = true;
            open.remove(this);
        }

        @Override
        public synchronized void abortHandover() {
            handingOver = false;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (done) {
                    return;
                }
                done = true;
            }
            open.remove(this);
            to(DISCONNECTED);
        }
    }
}
