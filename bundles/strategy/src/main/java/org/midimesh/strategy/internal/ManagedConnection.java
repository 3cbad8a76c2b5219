package org.midimesh.strategy.internal;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.common.metrics.QueryMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stable connection to one peer: the object the pool holds, listeners hear about and routing sends through, for
 * the node's lifetime. The work is done by an engine of some strategy, which {@link #move} replaces while the
 * connection lives. Thread-safe.
 *
 * <h2>Threads</h2>
 * Commands come from any thread and pass the {@link CommandGate}: straight into the current engine, or, while a move
 * is under way, into the gate's queue, run on the new engine before anyone else gets in. Queries never wait: they read
 * the current engine through one volatile field and ask it (an engine being handed over answers with its frozen
 * state, which was the connection's state at that instant). Listener calls come from the engines' threads and are
 * passed to this connection's {@link EventLane}, which calls the listeners on the manager's event threads, in order.
 * A move runs on the thread of whoever moves it (a swap thread of the manager, or the SCR thread unbinding a
 * strategy), one at a time per connection: {@link #moveLock}.
 * <p>So a call passes through exactly one forward (this object) whatever the number of moves, and an engine never
 * forwards anything.
 */
final class ManagedConnection implements NetworkConnection {

    private static final Logger LOG = LoggerFactory.getLogger(ManagedConnection.class);
    /** How long a held frame waits for room in a new engine whose queue is full. */
    static final long HELD_SEND_PATIENCE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

    /** What the connection needs from its manager. */
    interface Host {
        /** A query meter that records into the window histogram of {@code slot}'s strategy. */
        QueryMeter meterFor(Slot slot);

        /** The connection entered CONNECTED: its peer is known now, so its strategy may have to change. */
        void connected(ManagedConnection c);

        /** The connection was closed by its owner. */
        void closed(ManagedConnection c);

        /** The threads listener calls run on. */
        Executor eventThreads();

        /** Runs the rest of a long drain of held commands (see {@link CommandGate}). */
        Executor gateHelper();
    }

    /** A first engine and the slot it belongs to. */
    record Made(Slot slot, ConnectionEngine engine) {
    }

    /** The engine the connection runs on now, with its slot, query meter and event sink. Immutable. */
    record Running(ConnectionEngine engine, Slot slot, QueryMeter meter, Sink sink) {
    }

    /**
     * What a move did.
     *
     * @param moved   whether the connection runs on another engine now
     * @param landed  where it runs now
     * @param failure why it did not get where it was sent (empty when it did)
     */
    record Outcome(boolean moved, Slot landed, Optional<String> failure) {
    }

    private final long serial;
    private final ConnectionContext context;
    private final Host host;
    private final CommandGate gate;
    private final EventLane lane;
    // Copy-on-write: events snapshot it when they are raised, so a listener hears what happens after it was added.
    private final CopyOnWriteArrayList<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    /** Held by whoever moves this connection, for the whole move; tried with a timeout. */
    final ReentrantLock moveLock = new ReentrantLock();
    // Written by the mover (holding moveLock) before it opens the gate; read by every command after entering the gate
    // and by every query. The volatile write publishes the new engine, its slot, meter and sink (all built before).
    private volatile Running running;
    // Set once by close(); read by movers (a closed connection is not moved) and the manager. Publishes nothing else.
    private volatile boolean closed;
    // Events from engines that were already handed over (a bug in their strategy). A counter only.
    private final LongAdder lateEvents = new LongAdder();

    /** A connection whose first engine {@code make} makes, reporting to the connection's own sink. */
    ManagedConnection(long serial, ConnectionContext context, Host host, Function<EngineEvents, Made> make) {
        this.serial = serial;
        this.context = Objects.requireNonNull(context, "context");
        this.host = host;
        this.lane = new EventLane(host.eventThreads());
        this.gate = new CommandGate(() -> running.engine(), host.gateHelper());
        Sink sink = new Sink();
        Made first = make.apply(sink);
        this.running = new Running(first.engine(), first.slot(), host.meterFor(first.slot()), sink);
    }

    // ---- commands: through the gate -------------------------------------------------------------------------------

    private void command(Consumer<ConnectionEngine> c) {
        if (gate.enterOrHold(c)) {
            try {
                c.accept(running.engine());
            } finally {
                gate.exit();
            }
        }
    }

    @Override
    public void connect() {
        command(ConnectionEngine::connect);
    }

    @Override
    public void disconnect() {
        command(ConnectionEngine::disconnect);
    }

    @Override
    public void handshakeCompleted(Handshake peer) {
        Objects.requireNonNull(peer, "peer");
        command(e -> e.handshakeCompleted(peer));
    }

    @Override
    public void goodbyeReceived() {
        command(ConnectionEngine::goodbyeReceived);
    }

    @Override
    public void notifyHeartbeat() {
        command(ConnectionEngine::notifyHeartbeat);
    }

    @Override
    public void checkHeartbeat() {
        command(ConnectionEngine::checkHeartbeat);
    }

    /**
     * Sends through the current engine; during a move the frame is held and sent by the new engine, in order, and the
     * answer is whether the connection was CONNECTED when it was held (the new engine counts it as dropped if a held
     * command disconnected it first).
     */
    @Override
    public boolean send(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        if (gate.enterOrHold(e -> sendHeld(e, frame))) {
            try {
                return running.engine().send(frame);
            } finally {
                gate.exit();
            }
        }
        return running.engine().getState() == ConnectionState.CONNECTED;
    }

    /**
     * A held frame, sent once the gate opens. The caller was told it was accepted, so a refusal by a CONNECTED engine
     * (its bounded queue is full: held frames arrive in a burst) is retried, parking briefly, for at most
     * {@link #HELD_SEND_PATIENCE_NANOS}; a refusal because the connection is no longer CONNECTED is final (the engine
     * counts it as dropped, as it would have counted a direct send).
     */
    private static void sendHeld(ConnectionEngine e, DataFrame frame) {
        if (e.send(frame)) {
            return;
        }
        long deadline = System.nanoTime() + HELD_SEND_PATIENCE_NANOS;
        long park = 10_000;
        while (e.getState() == ConnectionState.CONNECTED && System.nanoTime() - deadline < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(park);
            park = Math.min(park * 2, 1_000_000);
            if (e.send(frame)) {
                return;
            }
        }
        LOG.warn("{}: a frame held during a strategy swap was refused by the new engine", e);
    }

    /** Ends the connection for good (after anything held before it); it is no longer moved. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        command(ConnectionEngine::close);
        host.closed(this);
    }

    // ---- listeners: kept here, never by an engine ------------------------------------------------------------------

    @Override
    public void addListener(ConnectionListener listener) {
        listeners.addIfAbsent(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeListener(ConnectionListener listener) {
        if (listener != null) {
            listeners.remove(listener);
        }
    }

    // ---- queries: the current engine, no gate ----------------------------------------------------------------------

    @Override
    public String strategy() {
        return running.slot().name();
    }

    @Override
    public ConnectionState getState() {
        Running r = running;
        long t0 = r.meter().start();
        ConnectionState s = r.engine().getState();
        r.meter().end(t0);
        return s;
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        Running r = running;
        long t0 = r.meter().start();
        Optional<NodeId> id = r.engine().getRemoteId();
        r.meter().end(t0);
        return id;
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        Running r = running;
        long t0 = r.meter().start();
        Optional<NodeInfo> node = r.engine().getRemoteNode();
        r.meter().end(t0);
        return node;
    }

    @Override
    public List<DeviceInfo> getRemoteDevices() {
        Running r = running;
        long t0 = r.meter().start();
        List<DeviceInfo> devices = r.engine().getRemoteDevices();
        r.meter().end(t0);
        return devices;
    }

    @Override
    public long getTimeSinceLastHeartbeat() {
        Running r = running;
        long t0 = r.meter().start();
        long age = r.engine().getTimeSinceLastHeartbeat();
        r.meter().end(t0);
        return age;
    }

    /** The current engine's counters (they start anew when the connection moves). */
    @Override
    public ConnectionMetrics metrics() {
        return running.engine().metrics();
    }

    // ---- for the manager -------------------------------------------------------------------------------------------

    Running running() {
        return running;
    }

    boolean isClosed() {
        return closed;
    }

    /** The peer's id as the engine knows it, without counting a query. */
    Optional<NodeId> peer() {
        return running.engine().getRemoteId();
    }

    int heldCommands() {
        return gate.heldCount();
    }

    long lateEvents() {
        return lateEvents.sum();
    }

    ConnectionContext context() {
        return context;
    }

    /**
     * Moves the connection onto a new engine of {@code to}: holds new commands, waits for running ones to leave the
     * old engine, takes its handover, has {@code to} adopt it, retires the old engine and runs the held commands on the
     * new one. When {@code to} cannot adopt it, the old engine goes on (its handover is called off), unless it cannot
     * ({@code mustLeave}: its strategy is leaving) or refuses: then the connection waits in {@code parking}. The caller
     * holds {@link #moveLock}; nothing here holds a lock while calling an engine or a strategy.
     */
    Outcome move(Slot to, Slot parking, boolean mustLeave, long timeoutNanos) {
        assert moveLock.isHeldByCurrentThread() : "a move needs the connection's move lock";
        Running from = running;
        if (closed || from.slot().equals(to)) {
            return new Outcome(false, from.slot(), Optional.empty());
        }
        if (!gate.shut(timeoutNanos)) {
            gate.open();
            return new Outcome(false, from.slot(), Optional.of(this + ": commands still running in the " + from.slot()
                    .name() + " engine after " + timeoutNanos / 1_000_000 + " ms"));
        }
        Handover h;
        try {
            h = from.engine().beginHandover();
        } catch (RuntimeException e) {
            gate.open();
            return new Outcome(false, from.slot(), Optional.of(this + ": the " + from.slot().name()
                    + " engine did not hand over: " + e.getMessage()));
        }
        Slot landed = to;
        String failure = null;
        Sink sink = new Sink();
        ConnectionEngine next = adopt(to, h, sink);
        if (next == null) {
            failure = this + ": " + to.name() + " could not take it over";
            if (!mustLeave) {
                try {
                    from.engine().abortHandover();
                    gate.open();
                    return new Outcome(false, from.slot(), Optional.of(failure));
                } catch (RuntimeException e) {
                    LOG.error("{}: the {} engine did not go on after a failed move; the connection waits for a "
                            + "strategy", this, from.slot().name(), e);
                    failure += "; the old engine did not go on either";
                }
            }
            landed = parking;
            sink = new Sink();
            next = parking.strategy().adopt(h, sink); // the parking place takes anything
        }
        running = new Running(next, landed, host.meterFor(landed), sink);
        from.sink().retire();
        try {
            from.engine().completeHandover();
        } catch (RuntimeException e) {
            LOG.warn("{}: the retired {} engine failed to complete its handover", this, from.slot().name(), e);
        }
        gate.open();
        LOG.debug("{}: moved from {} to {}", this, from.slot(), landed);
        return new Outcome(true, landed, Optional.ofNullable(failure));
    }

    /**
     * The last resort when the engine's strategy is leaving and the engine did not hand over in time: the connection
     * continues in {@code parking} from what the engine's queries say (state, peer, devices, heartbeat age); whatever
     * the engine had in flight is lost (logged by the caller). Takes the move lock, bounded by {@code timeoutMs}.
     */
    void evict(Slot parking, long timeoutMs) {
        boolean locked;
        try {
            locked = moveLock.tryLock(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            LOG.error("{}: a move is stuck in its engine; the connection stays where it is", this);
            return;
        }
        try {
            Running from = running;
            if (closed || from.slot().isParked()) {
                return;
            }
            gate.shut(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.min(timeoutMs, 100)));
            ConnectionEngine old = from.engine();
            long age = old.getTimeSinceLastHeartbeat();
            long last = age == Long.MAX_VALUE ? Long.MIN_VALUE : System.nanoTime() - age * 1_000_000L;
            Optional<Handshake> peer = old.getRemoteNode().map(n -> new Handshake(n, old.getRemoteDevices()));
            Handover h = new Handover(context, old.getState(), peer, last, List.of());
            Sink sink = new Sink();
            ConnectionEngine next = parking.strategy().adopt(h, sink);
            running = new Running(next, parking, host.meterFor(parking), sink);
            from.sink().retire();
            gate.open();
        } finally {
            moveLock.unlock();
        }
    }

    private ConnectionEngine adopt(Slot to, Handover h, Sink sink) {
        try {
            ConnectionEngine e = to.strategy().adopt(h, sink);
            if (e == null) {
                LOG.error("{}: strategy {} returned no engine from adopt", this, to);
            }
            return e;
        } catch (RuntimeException e) {
            LOG.warn("{}: strategy {} could not adopt the connection: {}", this, to, e.toString());
            return null;
        }
    }

    @Override
    public String toString() {
        return "connection " + serial + " to " + context.host() + ":" + context.httpPort()
                + running.engine().getRemoteId().map(id -> " (" + id + ")").orElse("");
    }

    /**
     * Where one engine reports: passes each event, with the listeners of that moment, to the lane. Retired when its
     * engine is handed over; a retired sink drops what still comes (and counts it).
     */
    final class Sink implements EngineEvents {
        // Set once by the mover after the engine's handover; read by the engine's threads on every event.
        private volatile boolean retired;

        void retire() {
            retired = true;
        }

        private boolean late(String what) {
            if (retired) {
                lateEvents.increment();
                LOG.debug("{}: {} from a retired engine dropped", ManagedConnection.this, what);
                return true;
            }
            return false;
        }

        @Override
        public void stateChanged(ConnectionState from, ConnectionState to) {
            if (late("state change " + from + " -> " + to)) {
                return;
            }
            Object[] to1 = listeners.toArray();
            lane.post(() -> {
                for (Object l : to1) {
                    call(l, () -> ((ConnectionListener) l).stateChanged(ManagedConnection.this, from, to));
                }
            });
            if (to == ConnectionState.CONNECTED) {
                host.connected(ManagedConnection.this);
            }
        }

        @Override
        public void error(String message) {
            if (late("error")) {
                return;
            }
            Object[] to1 = listeners.toArray();
            lane.post(() -> {
                for (Object l : to1) {
                    call(l, () -> ((ConnectionListener) l).error(ManagedConnection.this, message));
                }
            });
        }

        @Override
        public void devicesChanged(List<DeviceInfo> devices) {
            if (late("device list")) {
                return;
            }
            Object[] to1 = listeners.toArray();
            lane.post(() -> {
                for (Object l : to1) {
                    call(l, () -> ((ConnectionListener) l).devicesChanged(ManagedConnection.this, devices));
                }
            });
        }

        private void call(Object listener, Runnable r) {
            try {
                r.run();
            } catch (Throwable t) { // one listener must not keep the others from hearing it
                LOG.error("{}: listener {} failed", ManagedConnection.this, listener, t);
            }
        }
    }
}
