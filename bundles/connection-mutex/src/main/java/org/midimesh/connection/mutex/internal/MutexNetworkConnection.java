package org.midimesh.connection.mutex.internal;

import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.connection.ConnectionState.FAILED;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DataFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection guarded by one mutex (workplan Approach A, phases A.1 to A.3). Thread-safe: commands and queries may
 * come from any thread; the outbound handshake runs on the strategy's connect executor and every listener call on its
 * notification thread.
 *
 * <h2>Locking</h2>
 * One {@link ReentrantLock} guards {@code state}, {@code remoteNode}, {@code generation} and {@code closed}. It is
 * taken with a non-waiting try first (a failure counts as a contention), then with {@code tryLock(timeout)}. Nothing is
 * called out while it is held: no listener, no handshake, no peer send, no strategy callback. State changes only
 * append events to this connection's event queue under the lock (so the queue is in lock order); the notification
 * thread delivers them after the lock is released.
 * <p>When the bounded wait times out (or is interrupted; the interrupt flag is set again), the lock owner and its
 * stack are logged at WARN and:
 * <ul>
 * <li>a <b>query</b> answers from {@link #published}, the snapshot written at the end of every change, so it is the
 * state as of the last completed change;</li>
 * <li>{@link #send} decides from the same snapshot;</li>
 * <li>a <b>command</b> is not lost: it is deferred to the notification thread, which retries it (each attempt bounded
 * by the lock timeout, at most {@value #MAX_COMMAND_ATTEMPTS} attempts) and, if every attempt fails, drops it with an
 * ERROR log and an {@code error} callback. While any command of this connection waits for such a retry, later commands
 * queue behind it on the same thread, so commands still take effect in the order they were issued.</li>
 * </ul>
 *
 * <h2>Lock-free parts</h2>
 * The device list is an immutable list behind an {@link AtomicReference} (replaced whole, never half-written); the
 * last heartbeat time is a monotonic {@link System#nanoTime()} reading in an {@link AtomicLong}. Both are read
 * without the lock.
 */
public final class MutexNetworkConnection implements NetworkConnection {

    static final String STRATEGY = "mutex";
    /** Attempts a deferred command gets on the notification thread before it is dropped. */
    static final int MAX_COMMAND_ATTEMPTS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(MutexNetworkConnection.class);

    /**
     * A fair {@link ReentrantLock} that tells who holds it, for the timeout log. Fair, because with many readers an
     * unfair lock lets barging {@code tryLock()} callers starve the queued timed waiters into needless timeouts.
     */
    static final class OwnerAwareLock extends ReentrantLock {
        private static final long serialVersionUID = 1L;

        OwnerAwareLock() {
            super(true);
        }

        Thread owner() {
            return getOwner();
        }
    }

    /** What lock-free readers see: the guarded fields as of the end of the last change. */
    private record Snapshot(ConnectionState state, NodeInfo remoteNode, boolean closed) {
    }

    private sealed interface Event permits StateEvent, ErrorEvent, DevicesEvent {
    }

    private record StateEvent(ConnectionState from, ConnectionState to) implements Event {
    }

    private record ErrorEvent(String message) implements Event {
    }

    private record DevicesEvent(List<DeviceInfo> devices) implements Event {
    }

    /** The body of a command: runs with the lock held, appends its events, returns what to run after unlocking. */
    @FunctionalInterface
    private interface Command {
        Runnable apply(List<Event> events);
    }

    private final ConnectionContext context;
    private final Executor notifyExecutor;
    private final Executor connectExecutor;
    private final LongSupplier lockTimeoutMillis;
    private final Consumer<MutexNetworkConnection> onClosed;
    private final String peerAddress;

    private final OwnerAwareLock lock = new OwnerAwareLock();
    // Guarded by lock.
    private ConnectionState state = DISCONNECTED;
    // Guarded by lock. Known after the first handshake.
    private NodeInfo remoteNode;
    // Guarded by lock. Bumped by every command that makes an outbound handshake in flight obsolete.
    private long generation;
    // Guarded by lock.
    private boolean closed;

    // Written under the lock as the last step of every change; read without the lock by queries, send() and
    // notifyHeartbeat() when they cannot (or need not) take it. The volatile write publishes the immutable record, so a
    // reader sees the state and the node of one and the same change, never a mix.
    private volatile Snapshot published = new Snapshot(DISCONNECTED, null, false);

    // Set under the lock to an immutable list (whole replacement); read anywhere without the lock. The volatile
    // set/get pair publishes the list's contents with it, so a reader sees a complete list, never a half-written one.
    private final AtomicReference<List<DeviceInfo>> remoteDevices = new AtomicReference<>(List.of());

    private final long originNanos = System.nanoTime();
    // (System.nanoTime() - originNanos) + 1 of the last heartbeat or handshake; 0 means never. Monotonic clock only.
    // Written by notifyHeartbeat() (any thread) and by handshakes under the lock; read anywhere. It publishes nothing
    // but its own value.
    private final AtomicLong lastHeartbeat = new AtomicLong();

    // Copy-on-write: the notification thread iterates a snapshot while other threads add or remove listeners.
    private final CopyOnWriteArrayList<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    // Appended to under the lock (so in lock order), drained by the notification thread only.
    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
    // true while a drain task is queued or running; CAS false->true by whoever schedules it. The CAS and the queue's own
    // ordering guarantee that an event offered before the drain task clears the flag is seen by that task or a new one.
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    // Commands waiting for a retry on the notification thread. Incremented before the retry is queued and decremented
    // after it ran; a command that sees it above 0 queues behind them, which keeps commands in order.
    private final AtomicInteger deferred = new AtomicInteger();

    // Counters only: each is read on its own and orders nothing else.
    private final LongAdder totalQueries = new LongAdder();
    private final LongAdder mutexContentions = new LongAdder();
    private final LongAdder commandContentions = new LongAdder();
    private final LongAdder callbacksDispatched = new LongAdder();
    private final LongAdder lockTimeouts = new LongAdder();
    private final LongAdder deferredCommands = new LongAdder();
    private final LongAdder droppedCommands = new LongAdder();
    private final LongAdder sendErrors = new LongAdder();
    private final LongAdder listenerErrors = new LongAdder();

    /**
     * @param notifyExecutor    single thread running every listener call (and deferred commands)
     * @param connectExecutor   runs the blocking outbound handshake
     * @param lockTimeoutMillis the current bounded lock wait, read at every timed acquisition
     * @param onClosed          told once, outside the lock, after the connection was closed
     */
    MutexNetworkConnection(ConnectionContext context, Executor notifyExecutor, Executor connectExecutor,
            LongSupplier lockTimeoutMillis, Consumer<MutexNetworkConnection> onClosed) {
        this.context = Objects.requireNonNull(context, "context");
        this.notifyExecutor = Objects.requireNonNull(notifyExecutor, "notifyExecutor");
        this.connectExecutor = Objects.requireNonNull(connectExecutor, "connectExecutor");
        this.lockTimeoutMillis = Objects.requireNonNull(lockTimeoutMillis, "lockTimeoutMillis");
        this.onClosed = Objects.requireNonNull(onClosed, "onClosed");
        this.peerAddress = context.host() + ":" + context.httpPort();
    }

    @Override
    public String strategy() {
        return STRATEGY;
    }

    // ---- commands ------------------------------------------------------------------------------------------------

    @Override
    public void connect() {
        command("connect", out -> {
            if (closed || (state != DISCONNECTED && state != FAILED)) {
                return null;
            }
            long gen = ++generation;
            setState(CONNECTING, out);
            return () -> startHandshake(gen);
        });
    }

    @Override
    public void disconnect() {
        command("disconnect", out -> {
            if (!closed) {
                generation++;
                setState(DISCONNECTED, out);
            }
            return null;
        });
    }

    @Override
    public void handshakeCompleted(Handshake peer) {
        Objects.requireNonNull(peer, "peer");
        command("handshakeCompleted", out -> {
            if (!closed) {
                applyHandshake(peer, out);
            }
            return null;
        });
    }

    @Override
    public void goodbyeReceived() {
        command("goodbyeReceived", out -> {
            if (!closed) {
                generation++;
                setState(DISCONNECTED, out);
            }
            return null;
        });
    }

    @Override
    public void notifyHeartbeat() {
        if (!published.closed()) {
            lastHeartbeat.set(heartbeatNow());
        }
    }

    @Override
    public void checkHeartbeat() {
        command("checkHeartbeat", out -> {
            if (closed || state != CONNECTED) {
                return null;
            }
            long last = lastHeartbeat.get();
            long silentNanos = last == 0 ? Long.MAX_VALUE : heartbeatNow() - last;
            if (silentNanos > context.heartbeatTimeout().toNanos()) {
                setState(FAILED, out);
                String message = last == 0 ? "heartbeat timeout: no heartbeat received"
                        : "heartbeat timeout: no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms";
                out.add(new ErrorEvent(message));
            }
            return null;
        });
    }

    @Override
    public boolean send(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        NodeInfo target;
        if (tryLockNow() || timedLock("send")) {
            try {
                target = !closed && state == CONNECTED ? remoteNode : null;
            } finally {
                lock.unlock();
            }
        } else {
            Snapshot s = published;
            target = !s.closed() && s.state() == CONNECTED ? s.remoteNode() : null;
        }
        if (target == null) {
            return false;
        }
        try {
            context.link().sendData(target, frame);
            return true;
        } catch (RuntimeException e) {
            sendErrors.increment();
            LOG.debug("{}: send failed", this, e);
            return false;
        }
    }

    @Override
    public void addListener(ConnectionListener listener) {
        listeners.addIfAbsent(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeListener(ConnectionListener listener) {
        listeners.remove(listener);
    }

    /** Closes for good: DISCONNECTED (one event if it was not already), later commands are ignored. Idempotent. */
    @Override
    public void close() {
        command("close", out -> {
            if (closed) {
                return null;
            }
            closed = true;
            generation++;
            setState(DISCONNECTED, out);
            return () -> onClosed.accept(this);
        });
    }

    // ---- queries -------------------------------------------------------------------------------------------------

    @Override
    public ConnectionState getState() {
        totalQueries.increment();
        if (!lockForQuery()) {
            return published.state();
        }
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return getRemoteNode().map(NodeInfo::id);
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        totalQueries.increment();
        if (!lockForQuery()) {
            return Optional.ofNullable(published.remoteNode());
        }
        try {
            return Optional.ofNullable(remoteNode);
        } finally {
            lock.unlock();
        }
    }

    /** Lock-free: the immutable list last stored, never a half-written one. */
    @Override
    public List<DeviceInfo> getRemoteDevices() {
        totalQueries.increment();
        return remoteDevices.get();
    }

    /** Lock-free, from the monotonic clock. */
    @Override
    public long getTimeSinceLastHeartbeat() {
        totalQueries.increment();
        long last = lastHeartbeat.get();
        return last == 0 ? Long.MAX_VALUE : TimeUnit.NANOSECONDS.toMillis(heartbeatNow() - last);
    }

    /** The Appendix C counters of this connection. Thread-safe, lock-free. */
    public MutexConnectionMetrics metrics() {
        return new MutexConnectionMetrics(totalQueries.sum(), mutexContentions.sum(), commandContentions.sum(),
                callbacksDispatched.sum(), lockTimeouts.sum(), deferredCommands.sum(), droppedCommands.sum(),
                sendErrors.sum(), listenerErrors.sum());
    }

    /** For tests: whether the calling thread holds this connection's lock. */
    boolean isLockHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** For tests: the connection lock, to provoke contention and timeouts. */
    ReentrantLock lockForTest() {
        return lock;
    }

    @Override
    public String toString() {
        NodeInfo node = published.remoteNode();
        return "mutex connection to " + peerAddress + (node == null ? "" : " (" + node.id() + ")");
    }

    // ---- state machine (lock held) -------------------------------------------------------------------------------

    /**
     * Moves to {@code to} and records the event; the same state twice is a no-op. Caller holds the lock.
     *
     * @throws IllegalStateException for a transition ConnectionState does not allow (a bug in this class)
     */
    private void setState(ConnectionState to, List<Event> out) {
        assert lock.isHeldByCurrentThread() : "setState needs the connection lock";
        ConnectionState from = state;
        if (from == to) {
            return;
        }
        boolean legal = switch (to) {
            case DISCONNECTED, CONNECTED -> true;
            case CONNECTING -> from == DISCONNECTED || from == FAILED;
            case FAILED -> from == CONNECTING || from == CONNECTED;
        };
        if (!legal) {
            throw new IllegalStateException("illegal connection state change " + from + " -> " + to);
        }
        state = to;
        out.add(new StateEvent(from, to));
        LOG.debug("{}: {} -> {}", this, from, to);
    }

    /** Stores the peer's node and devices and enters CONNECTED. Caller holds the lock. */
    private boolean applyHandshake(Handshake peer, List<Event> out) {
        NodeInfo node = peer.node();
        if (remoteNode != null && !remoteNode.id().equals(node.id())) {
            String message = "handshake from node " + node.id() + " rejected: this connection belongs to node "
                    + remoteNode.id();
            LOG.warn("{}: {}", this, message);
            out.add(new ErrorEvent(message));
            return false;
        }
        generation++; // an outbound handshake still in flight is superseded by this one
        remoteNode = node;
        lastHeartbeat.set(heartbeatNow());
        List<DeviceInfo> before = remoteDevices.getAndSet(peer.devices());
        setState(CONNECTED, out);
        if (!before.equals(peer.devices())) {
            out.add(new DevicesEvent(peer.devices()));
        }
        return true;
    }

    // ---- outbound handshake (connect executor) -------------------------------------------------------------------

    private void startHandshake(long gen) {
        try {
            connectExecutor.execute(() -> runHandshake(gen));
        } catch (RejectedExecutionException e) {
            handshakeFailed(gen, "strategy stopped");
        }
    }

    private void runHandshake(long gen) {
        Handshake peer;
        try {
            peer = context.handshaker().handshake(context.host(), context.httpPort());
            if (peer == null) {
                throw new IOException("no handshake returned");
            }
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            handshakeFailed(gen, "interrupted");
            return;
        } catch (IOException e) {
            handshakeFailed(gen, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            return;
        } catch (RuntimeException e) {
            LOG.error("{}: handshaker threw", this, e);
            handshakeFailed(gen, e.toString());
            return;
        }
        command("handshake result", out -> {
            if (isCurrentHandshake(gen)) {
                if (!applyHandshake(peer, out)) {
                    setState(FAILED, out);
                }
            } else {
                LOG.debug("{}: late handshake result ignored", this);
            }
            return null;
        });
    }

    private void handshakeFailed(long gen, String reason) {
        command("handshake result", out -> {
            if (isCurrentHandshake(gen)) {
                setState(FAILED, out);
                out.add(new ErrorEvent("handshake with " + peerAddress + " failed: " + reason));
            } else {
                LOG.debug("{}: late handshake failure ignored ({})", this, reason);
            }
            return null;
        });
    }

    /** Caller holds the lock. A disconnect, goodbye, close or newer handshake since {@code gen} wins. */
    private boolean isCurrentHandshake(long gen) {
        return !closed && gen == generation && state == CONNECTING;
    }

    // ---- locking -------------------------------------------------------------------------------------------------

    /**
     * The first, non-waiting attempt. {@code tryLock(0, NANOSECONDS)} rather than {@code tryLock()}: it honours the
     * fair queue, so it fails (a contention) when others are already waiting, instead of barging past them.
     */
    private boolean tryLockNow() {
        try {
            return lock.tryLock(0, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return lock.tryLock();
        }
    }

    private boolean lockForQuery() {
        if (tryLockNow()) {
            return true;
        }
        mutexContentions.increment();
        return timedLock("query");
    }

    /** The bounded wait; false after a timeout (logged) or an interrupt (flag set again). */
    private boolean timedLock(String operation) {
        long timeoutMs = lockTimeoutMillis.getAsLong();
        try {
            if (lock.tryLock(timeoutMs, TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.debug("{}: interrupted while waiting for the connection lock ({})", this, operation);
            return false;
        }
        lockTimeouts.increment();
        logLockTimeout(operation, timeoutMs);
        return false;
    }

    private void logLockTimeout(String operation, long timeoutMs) {
        if (!LOG.isWarnEnabled()) {
            return;
        }
        Thread owner = lock.owner();
        StringBuilder stack = new StringBuilder();
        if (owner != null) {
            for (StackTraceElement e : owner.getStackTrace()) {
                stack.append("\n\tat ").append(e);
            }
        }
        LOG.warn("{}: {} waited {} ms for the connection lock, held by {}{}", this, operation, timeoutMs,
                owner == null ? "(nobody by now)" : "\"" + owner.getName() + "\"", stack);
    }

    /** Runs a command now, or defers it to the notification thread (see the class comment). */
    private void command(String name, Command body) {
        if (deferred.get() > 0) {
            defer(name, body);
            return;
        }
        boolean locked = tryLockNow();
        if (!locked) {
            commandContentions.increment();
            locked = timedLock(name);
        }
        if (locked) {
            runLocked(body);
        } else {
            defer(name, body);
        }
    }

    /** Runs {@code body}; the caller has just acquired the lock, this method releases it. */
    private void runLocked(Command body) {
        List<Event> out = new ArrayList<>(2);
        Runnable after;
        try {
            after = body.apply(out);
            published = new Snapshot(state, remoteNode, closed);
            events.addAll(out);
        } finally {
            lock.unlock();
        }
        if (!out.isEmpty()) {
            scheduleDrain();
        }
        if (after != null) {
            after.run();
        }
    }

    private void defer(String name, Command body) {
        deferred.incrementAndGet();
        deferredCommands.increment();
        try {
            notifyExecutor.execute(() -> retry(name, body));
        } catch (RejectedExecutionException e) {
            deferred.decrementAndGet();
            droppedCommands.increment();
            LOG.warn("{}: {} dropped: the strategy is stopped", this, name);
        }
    }

    /** On the notification thread. */
    private void retry(String name, Command body) {
        try {
            for (int attempt = 1; attempt <= MAX_COMMAND_ATTEMPTS; attempt++) {
                if (tryLockNow() || timedLock(name + " (retry " + attempt + ")")) {
                    runLocked(body);
                    return;
                }
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
            }
            droppedCommands.increment();
            LOG.error("{}: {} dropped: the connection lock stayed busy", this, name);
            events.add(new ErrorEvent(name + " dropped: the connection lock stayed busy"));
            scheduleDrain();
        } finally {
            deferred.decrementAndGet();
        }
    }

    // ---- notification thread -------------------------------------------------------------------------------------

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                notifyExecutor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                drainScheduled.set(false);
                LOG.debug("{}: events not delivered, the strategy is stopped", this);
            }
        }
    }

    private void drain() {
        do {
            Event e;
            while ((e = events.poll()) != null) {
                dispatch(e);
            }
            drainScheduled.set(false);
        } while (!events.isEmpty() && drainScheduled.compareAndSet(false, true));
    }

    private void dispatch(Event event) {
        for (ConnectionListener l : listeners) {
            try {
                if (event instanceof StateEvent s) {
                    l.stateChanged(this, s.from(), s.to());
                } else if (event instanceof ErrorEvent er) {
                    l.error(this, er.message());
                } else if (event instanceof DevicesEvent d) {
                    l.devicesChanged(this, d.devices());
                }
            } catch (Throwable t) {
                listenerErrors.increment();
                LOG.error("{}: listener {} failed on {}", this, l, event, t);
            } finally {
                callbacksDispatched.increment();
            }
        }
    }

    private long heartbeatNow() {
        return System.nanoTime() - originNanos + 1;
    }
}
