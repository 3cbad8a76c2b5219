package org.midimesh.api.test.contract;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * Wraps a strategy to watch how the manager uses its engines: how deep calls nest through engines (a forward from one
 * engine to another would nest), commands reaching an engine while it hands over or after it was handed over, and,
 * on request, a beginHandover held at a gate or an adopt that fails. Thread-safe.
 */
public final class InstrumentedStrategy implements ConnectionStrategy {

    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final ConnectionStrategy delegate;
    // Highest number of engine calls seen nested on one thread. Written with accumulate by any thread.
    private final AtomicInteger maxDepth = new AtomicInteger();
    // Commands that reached an engine between its beginHandover and the end of the handover, or after it.
    private final ConcurrentLinkedQueue<String> misplaced = new ConcurrentLinkedQueue<>();
    private final AtomicInteger handoversBegun = new AtomicInteger();
    private final AtomicInteger adopted = new AtomicInteger();
    // When set, beginHandover waits for it (at most 30 s) before delegating; entered is counted down first.
    private final AtomicReference<CountDownLatch> gate = new AtomicReference<>();
    private final AtomicReference<CountDownLatch> entered = new AtomicReference<>();
    // When true, adopt throws instead of delegating.
    private final AtomicBoolean refuseAdopt = new AtomicBoolean();

    public InstrumentedStrategy(ConnectionStrategy delegate) {
        this.delegate = delegate;
    }

    /** The next beginHandover calls wait until {@link #openGate()}; the returned latch counts down when one waits. */
    public CountDownLatch closeGate() {
        CountDownLatch in = new CountDownLatch(1);
        entered.set(in);
        gate.set(new CountDownLatch(1));
        return in;
    }

    public void openGate() {
        CountDownLatch g = gate.getAndSet(null);
        if (g != null) {
            g.countDown();
        }
    }

    public void refuseAdopt(boolean refuse) {
        refuseAdopt.set(refuse);
    }

    public int maxDepth() {
        return maxDepth.get();
    }

    public List<String> misplacedCommands() {
        return List.copyOf(misplaced);
    }

    public int handoversBegun() {
        return handoversBegun.get();
    }

    public int adopted() {
        return adopted.get();
    }

    public ConnectionStrategy delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public ConnectionEngine create(ConnectionContext context, EngineEvents events) {
        return new Engine(delegate.create(context, events));
    }

    @Override
    public ConnectionEngine adopt(Handover handover, EngineEvents events) {
        if (refuseAdopt.get()) {
            throw new IllegalStateException("adopt refused by the test");
        }
        ConnectionEngine e = delegate.adopt(handover, events);
        adopted.incrementAndGet();
        return new Engine(e);
    }

    @Override
    public ConnectionMetrics metrics() {
        return delegate.metrics();
    }

    @Override
    public String toString() {
        return "instrumented " + delegate;
    }

    /** Phases of one engine as the manager moved it. */
    private enum Phase {
        ACTIVE, HANDING_OVER, HANDED_OVER
    }

    private final class Engine implements ConnectionEngine {
        private final ConnectionEngine e;
        // Written by the thread running beginHandover/complete/abort; read by every command. Orders nothing else.
        private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.ACTIVE);

        Engine(ConnectionEngine e) {
            this.e = e;
        }

        private void enter(String command) {
            int d = ++DEPTH.get()[0];
            maxDepth.accumulateAndGet(d, Math::max);
            Phase p = phase.get();
            if (command != null && p != Phase.ACTIVE) {
                misplaced.add(command + " while " + p);
            }
        }

        private void leave() {
            DEPTH.get()[0]--;
        }

        @Override
        public void connect() {
            enter("connect");
            try {
                e.connect();
            } finally {
                leave();
            }
        }

        @Override
        public void disconnect() {
            enter("disconnect");
            try {
                e.disconnect();
            } finally {
                leave();
            }
        }

        @Override
        public void handshakeCompleted(Handshake peer) {
            enter("handshakeCompleted");
            try {
                e.handshakeCompleted(peer);
            } finally {
                leave();
            }
        }

        @Override
        public void goodbyeReceived() {
            enter("goodbyeReceived");
            try {
                e.goodbyeReceived();
            } finally {
                leave();
            }
        }

        @Override
        public void notifyHeartbeat() {
            enter("notifyHeartbeat");
            try {
                e.notifyHeartbeat();
            } finally {
                leave();
            }
        }

        @Override
        public void checkHeartbeat() {
            enter("checkHeartbeat");
            try {
                e.checkHeartbeat();
            } finally {
                leave();
            }
        }

        @Override
        public boolean send(DataFrame frame) {
            enter("send");
            try {
                return e.send(frame);
            } finally {
                leave();
            }
        }

        @Override
        public ConnectionState getState() {
            enter(null);
            try {
                return e.getState();
            } finally {
                leave();
            }
        }

        @Override
        public Optional<NodeId> getRemoteId() {
            return e.getRemoteId();
        }

        @Override
        public Optional<NodeInfo> getRemoteNode() {
            return e.getRemoteNode();
        }

        @Override
        public List<DeviceInfo> getRemoteDevices() {
            return e.getRemoteDevices();
        }

        @Override
        public long getTimeSinceLastHeartbeat() {
            return e.getTimeSinceLastHeartbeat();
        }

        @Override
        public ConnectionMetrics metrics() {
            return e.metrics();
        }

        @Override
        public Handover beginHandover() {
            CountDownLatch in = entered.get();
            if (in != null) {
                in.countDown();
            }
            CountDownLatch g = gate.get();
            if (g != null) {
                try {
                    if (!g.await(30, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the test never opened the gate");
                    }
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted at the gate", ex);
                }
            }
            phase.set(Phase.HANDING_OVER); // from the call on, the manager guarantees no command
            try {
                Handover h = e.beginHandover();
                handoversBegun.incrementAndGet();
                return h;
            } catch (RuntimeException ex) {
                phase.set(Phase.ACTIVE);
                throw ex;
            }
        }

        @Override
        public void completeHandover() {
            phase.set(Phase.HANDED_OVER);
            e.completeHandover();
        }

        @Override
        public void abortHandover() {
            e.abortHandover();
            phase.set(Phase.ACTIVE);
        }

        @Override
        public void close() {
            enter("close");
            try {
                e.close();
            } finally {
                leave();
            }
        }
    }
}
