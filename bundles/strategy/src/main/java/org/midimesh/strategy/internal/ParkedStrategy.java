package org.midimesh.strategy.internal;

import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.connection.ConnectionState.FAILED;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

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
 * Where connections wait while no strategy can run them (none is there yet, or the last one left): a record of the
 * connection that keeps its state, peer, devices and heartbeat time, follows the commands that need no network
 * (an inbound handshake connects it, a goodbye or a silent peer ends it, connect waits in CONNECTING), sends nothing
 * (counted as dropped) and dials nobody. A strategy that comes adopts it like any other engine and carries on, dialling
 * if it was CONNECTING. Not a service and never chosen while a strategy is there. Thread-safe.
 * <p>Its engines take one monitor per engine for a few field writes; events are computed under it and handed to the
 * connection's {@link EngineEvents} after it is released, on the calling thread: the manager's events pass them to its
 * own event threads, so no listener runs on the caller.
 */
final class ParkedStrategy implements ConnectionStrategy {

    private static final long NEVER = Long.MIN_VALUE;

    // Counters only; each read on its own.
    private final LongAdder queries = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder events = new LongAdder();

    @Override
    public String name() {
        return Slot.NONE;
    }

    @Override
    public ConnectionEngine create(ConnectionContext context, EngineEvents sink) {
        Objects.requireNonNull(context, "context");
        return new Engine(context, Objects.requireNonNull(sink, "events"), DISCONNECTED, null, List.of(), NEVER);
    }

    @Override
    public ConnectionEngine adopt(Handover h, EngineEvents sink) {
        Objects.requireNonNull(h, "handover");
        Engine e = new Engine(h.context(), Objects.requireNonNull(sink, "events"), h.state(),
                h.peer().map(Handshake::node).orElse(null), h.peer().map(Handshake::devices).orElse(List.of()),
                h.lastHeartbeatNanos());
        if (!h.queuedFrames().isEmpty()) {
            dropped.add(h.queuedFrames().size());
        }
        return e;
    }

    @Override
    public ConnectionMetrics metrics() {
        return new ConnectionMetrics(Slot.NONE, queries.sum(), 0, events.sum(), 0, 0,
                ConnectionMetrics.LatencySummary.EMPTY, errors.sum(), dropped.sum(), 0);
    }

    private enum Phase {
        ACTIVE, HANDING_OVER, HANDED_OVER, CLOSED
    }

    private sealed interface Event permits StateEvent, ErrorEvent, DevicesEvent {
    }

    private record StateEvent(ConnectionState from, ConnectionState to) implements Event {
    }

    private record ErrorEvent(String message) implements Event {
    }

    private record DevicesEvent(List<DeviceInfo> devices) implements Event {
    }

    private final class Engine implements ConnectionEngine {
        private final ConnectionContext context;
        private final EngineEvents sink;
        // All guarded by this engine's monitor.
        private ConnectionState state;
        private NodeInfo node;
        private List<DeviceInfo> devices;
        private long lastHeartbeat;
        private Phase phase = Phase.ACTIVE;
        // Counters of this engine only.
        private final LongAdder myQueries = new LongAdder();
        private final LongAdder myDropped = new LongAdder();
        private final LongAdder myErrors = new LongAdder();
        private final LongAdder myEvents = new LongAdder();

        Engine(ConnectionContext context, EngineEvents sink, ConnectionState state, NodeInfo node,
                List<DeviceInfo> devices, long lastHeartbeat) {
            this.context = context;
            this.sink = sink;
            this.state = state;
            this.node = node;
            this.devices = List.copyOf(devices);
            this.lastHeartbeat = lastHeartbeat;
        }

        /** Runs {@code change} under the monitor unless handed over or closed; delivers its events after. */
        private void command(String name, java.util.function.Consumer<List<Event>> change) {
            List<Event> out = new ArrayList<>(2);
            synchronized (this) {
                if (phase == Phase.HANDING_OVER || phase == Phase.HANDED_OVER) {
                    throw new IllegalStateException(name + " on a parked engine that is " + phase);
                }
                if (phase == Phase.CLOSED) {
                    return;
                }
                change.accept(out);
            }
            deliver(out);
        }

        private void deliver(List<Event> out) {
            for (Event e : out) {
                myEvents.increment();
                events.increment();
                if (e instanceof StateEvent s) {
                    sink.stateChanged(s.from(), s.to());
                } else if (e instanceof ErrorEvent er) {
                    myErrors.increment();
                    errors.increment();
                    sink.error(er.message());
                } else if (e instanceof DevicesEvent d) {
                    sink.devicesChanged(d.devices());
                }
            }
        }

        /** Caller holds the monitor. */
        private void setState(ConnectionState to, List<Event> out) {
            if (state != to) {
                out.add(new StateEvent(state, to));
                state = to;
            }
        }

        @Override
        public void connect() {
            command("connect", out -> {
                if (state == DISCONNECTED || state == FAILED) {
                    setState(CONNECTING, out); // a strategy that adopts it dials
                }
            });
        }

        @Override
        public void disconnect() {
            command("disconnect", out -> setState(DISCONNECTED, out));
        }

        @Override
        public void handshakeCompleted(Handshake peer) {
            Objects.requireNonNull(peer, "peer");
            command("handshakeCompleted", out -> {
                if (node != null && !node.id().equals(peer.node().id())) {
                    out.add(new ErrorEvent("handshake from node " + peer.node().id()
                            + " rejected: this connection belongs to node " + node.id()));
                    return;
                }
                List<DeviceInfo> before = devices;
                node = peer.node();
                devices = peer.devices();
                lastHeartbeat = System.nanoTime();
                setState(CONNECTED, out);
                if (!before.equals(devices)) {
                    out.add(new DevicesEvent(devices));
                }
            });
        }

        @Override
        public void goodbyeReceived() {
            command("goodbyeReceived", out -> setState(DISCONNECTED, out));
        }

        @Override
        public void notifyHeartbeat() {
            command("notifyHeartbeat", out -> lastHeartbeat = System.nanoTime());
        }

        @Override
        public void checkHeartbeat() {
            command("checkHeartbeat", out -> {
                if (state != CONNECTED) {
                    return;
                }
                long silent = lastHeartbeat == NEVER ? Long.MAX_VALUE : System.nanoTime() - lastHeartbeat;
                if (silent > context.heartbeatTimeout().toNanos()) {
                    setState(FAILED, out);
                    out.add(new ErrorEvent(lastHeartbeat == NEVER ? "heartbeat timeout: no heartbeat received"
                            : "heartbeat timeout: no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silent)
                                    + " ms"));
                }
            });
        }

        /** Never sends: counted as dropped. */
        @Override
        public boolean send(DataFrame frame) {
            Objects.requireNonNull(frame, "frame");
            command("send", out -> {
            });
            myDropped.increment();
            dropped.increment();
            return false;
        }

        @Override
        public synchronized ConnectionState getState() {
            count();
            return state;
        }

        @Override
        public synchronized Optional<NodeId> getRemoteId() {
            count();
            return node == null ? Optional.empty() : Optional.of(node.id());
        }

        @Override
        public synchronized Optional<NodeInfo> getRemoteNode() {
            count();
            return Optional.ofNullable(node);
        }

        @Override
        public synchronized List<DeviceInfo> getRemoteDevices() {
            count();
            return devices;
        }

        @Override
        public synchronized long getTimeSinceLastHeartbeat() {
            count();
            return lastHeartbeat == NEVER ? Long.MAX_VALUE
                    : TimeUnit.NANOSECONDS.toMillis(Math.max(0, System.nanoTime() - lastHeartbeat));
        }

        private void count() {
            myQueries.increment();
            queries.increment();
        }

        @Override
        public ConnectionMetrics metrics() {
            return new ConnectionMetrics(Slot.NONE, myQueries.sum(), 0, myEvents.sum(), 0, 0,
                    ConnectionMetrics.LatencySummary.EMPTY, myErrors.sum(), myDropped.sum(), 0);
        }

        @Override
        public synchronized Handover beginHandover() {
            if (phase != Phase.ACTIVE) {
                throw new IllegalStateException("parked engine is " + phase);
            }
            phase = Phase.HANDING_OVER;
            return new Handover(context, state,
                    node == null ? Optional.empty() : Optional.of(new Handshake(node, devices)), lastHeartbeat,
                    List.of());
        }

        @Override
        public synchronized void completeHandover() {
            if (phase != Phase.HANDING_OVER) {
                throw new IllegalStateException("no handover to complete: parked engine is " + phase);
            }
            phase = Phase.HANDED_OVER;
        }

        @Override
        public synchronized void abortHandover() {
            if (phase != Phase.HANDING_OVER) {
                throw new IllegalStateException("no handover to call off: parked engine is " + phase);
            }
            phase = Phase.ACTIVE;
        }

        @Override
        public void close() {
            List<Event> out = new ArrayList<>(1);
            synchronized (this) {
                if (phase != Phase.ACTIVE) {
                    return;
                }
                phase = Phase.CLOSED;
                setState(DISCONNECTED, out);
            }
            deliver(out);
        }

        @Override
        public String toString() {
            return "parked engine for " + context.host() + ":" + context.httpPort();
        }
    }
}
