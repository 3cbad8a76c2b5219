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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.common.metrics.QueryMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection guarded by one mutex (workplan Approach A, phases A.1 to A.3). Thread-safe: commands and queries may
 * come from any thread; the outbound handshake runs on the strategy's connect executor and every listener call on its
 * notification thread.
 *
 * <h2>Locking</h2>
 * One {@link ReentrantLock} guards {@code state}, {@code remoteNode}, {@code generation}, {@code closed}, {@code phase}
 * changes and {@code kept}. It is taken with a non-waiting try first (a failure counts as a contention), then with a
 * bounded wait: commands queue in the fair lock ({@link #timedLock}); queries and sends poll with backoff and never
 * queue ({@link #pollLock}), so the queue holds only the few commands, which get the lock ahead of the many readers.
 * Nothing is called out while it is held: no listener, no handshake, no peer send, no strategy callback, no
 * successor.
 * <p>A query takes the lock only while someone holds it. Every critical section that changes a field ends by
 * publishing {@link #published}, the immutable snapshot of those fields, before it unlocks; so while the lock is free
 * (one volatile read of its state) the snapshot is exactly what the lock guards, and the query reads it instead of
 * acquiring. A query that finds the lock held is a contention (workplan Appendix C) and waits for the lock as below.
 * This keeps the uncontended getState at two volatile reads plus the query count, which the 5 ns target needs (a lock
 * acquire and release alone costs more on our hardware). State changes only append events to this connection's event queue under the lock
 * (so the queue is in lock order); the notification thread delivers them after the lock is released.
 * <p>When the bounded wait times out (or is interrupted; the interrupt flag is set again), the lock owner and its
 * stack are logged at WARN and:
 * <ul>
 * <li>a <b>query</b> answers from {@link #published}, the snapshot written at the end of every change, so it is the
 * state as of the last completed change;</li>
 * <li>{@link #send} decides from the same snapshot;</li>
 * <li>a <b>command</b> is not lost: it is deferred to the notification thread, which retries it (each attempt bounded
 * by the lock timeout, at most {@value #MAX_COMMAND_ATTEMPTS} attempts) and, if every attempt fails, drops it with an
 * ERROR log and an {@code error} callback. While any command of this connection waits for such a retry, later commands
 * and sends queue behind it on the same thread, so they still take effect in the order they were issued.</li>
 * </ul>
 *
 * <h2>Lock-free parts</h2>
 * The device list is an immutable list behind an {@link AtomicReference} (replaced whole, never half-written); the
 * last heartbeat time is a {@link System#nanoTime()} reading in an {@link AtomicLong}. Both are read without the lock.
 *
 * <h2>Handover (hot swap)</h2>
 * {@link #beginHandover()} moves {@code phase} from ACTIVE to HANDING_OVER under the lock and captures the state in
 * the same critical section, so every command either took effect before (and is in the captured state) or finds the
 * new phase and is kept, in lock order, in {@code kept}. An outbound handshake still in flight is abandoned (its late
 * result is ignored); a successor that receives CONNECTING runs its own. Before returning, beginHandover waits
 * (bounded) on the notification thread until this connection's pending callbacks are delivered and its deferred
 * commands have run (and so been kept), so the successor's callbacks can never overtake them.
 * {@link #completeHandover} replays {@code kept} on the successor outside the lock, batch by batch, until it finds it
 * empty under the lock; in that same critical section it publishes {@code successor} and HANDED_OVER, after which
 * every call is forwarded. So forwarded calls always come after every replayed one.
 */
public final class MutexNetworkConnection implements NetworkConnection {

    static final String STRATEGY = "mutex";
    /** Attempts a deferred command (or a handover step) gets before it is given up. */
    static final int MAX_COMMAND_ATTEMPTS = 10;

    /** Backoff of the readers' bounded wait: spins, then yields, then parks from MIN to MAX nanoseconds, doubling. */
    private static final int SPIN_ROUNDS = 32;
    private static final int YIELD_ROUNDS = 16;
    private static final long MIN_BACKOFF_NANOS = 1_000;
    static final long MAX_BACKOFF_NANOS = 1_000_000;
    /** At most one lock-timeout WARN per connection in this many milliseconds. */
    static final long TIMEOUT_LOG_INTERVAL_MS = 1000;

    /** {@link #lastHeartbeat} before the first heartbeat; the same sentinel as {@link ConnectionHandover}. */
    private static final long NEVER = Long.MIN_VALUE;

    private static final Logger LOG = LoggerFactory.getLogger(MutexNetworkConnection.class);

    /**
     * What the strategy gives each of its connections.
     *
     * @param notifyExecutor        single thread running every listener call (and deferred commands)
     * @param connectExecutor       runs the blocking outbound handshake
     * @param lockTimeoutMillis     the current bounded lock wait, read at every timed acquisition
     * @param handoverTimeoutMillis how long beginHandover waits for pending callbacks to be delivered
     * @param onNotifyThread        whether the calling thread is the strategy's notification thread
     * @param onRetired             told once, outside the lock, when the connection is closed or handed over
     * @param latency               the strategy-wide query latency histogram every sample also goes to
     */
    record Env(Executor notifyExecutor, Executor connectExecutor, LongSupplier lockTimeoutMillis,
            LongSupplier handoverTimeoutMillis, BooleanSupplier onNotifyThread,
            Consumer<MutexNetworkConnection> onRetired, AtomicHistogram latency) {

        Env {
            Objects.requireNonNull(notifyExecutor, "notifyExecutor");
            Objects.requireNonNull(connectExecutor, "connectExecutor");
            Objects.requireNonNull(lockTimeoutMillis, "lockTimeoutMillis");
            Objects.requireNonNull(handoverTimeoutMillis, "handoverTimeoutMillis");
            Objects.requireNonNull(onNotifyThread, "onNotifyThread");
            Objects.requireNonNull(onRetired, "onRetired");
            Objects.requireNonNull(latency, "latency");
        }
    }

    /** Where the connection stands in a move to another strategy. */
    enum Phase {
        /** Runs its commands itself. */
        ACTIVE,
        /** Between beginHandover and completeHandover: keeps every command for the successor. */
        HANDING_OVER,
        /** After completeHandover: forwards every call to the successor; owns nothing. */
        HANDED_OVER
    }

    /**
     * A fair {@link ReentrantLock} that tells who holds it, for the timeout log. Fair, so that commands queued in it
     * get it in order and ahead of the many readers: readers never queue (see {@link #pollLock}), and their attempts
     * honour the queue.
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
    private final Env env;
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
    // Guarded by lock: the calls that reached this connection after beginHandover, for the successor, in lock order.
    private final List<Consumer<NetworkConnection>> kept = new ArrayList<>();
    // Guarded by lock. The thread replaying kept calls on this connection itself in abortHandover: for it alone the
    // connection acts as ACTIVE while the phase is still HANDING_OVER, so calls of other threads keep queueing behind.
    private Thread resumer;

    // Written only under the lock (beginHandover, completeHandover); read under it by commands, and without it by
    // send() and notifyHeartbeat() as a hint. Publishes nothing else.
    private volatile Phase phase = Phase.ACTIVE;
    // Written once, under the lock, by completeHandover in the same critical section that finds kept empty and sets
    // HANDED_OVER; read without the lock at the start of every public method. A non-null read means: everything kept
    // has been replayed, forward this call. Publishes the successor, which was fully constructed before.
    private volatile NetworkConnection successor;

    // Written under the lock as the last step of every change; read without the lock by queries, send() and
    // notifyHeartbeat() when they cannot (or need not) take it. The volatile write publishes the immutable record, so a
    // reader sees the state and the node of one and the same change, never a mix.
    private volatile Snapshot published = new Snapshot(DISCONNECTED, null, false);

    // Set under the lock to an immutable list (whole replacement); read anywhere without the lock. The volatile
    // set/get pair publishes the list's contents with it, so a reader sees a complete list, never a half-written one.
    private final AtomicReference<List<DeviceInfo>> remoteDevices = new AtomicReference<>(List.of());

    // System.nanoTime() of the last heartbeat or handshake, NEVER before the first. Monotonic clock only. Written by
    // notifyHeartbeat() (any thread) and by handshakes under the lock; read anywhere. Its sequentially consistent
    // write/read pair with phase makes a heartbeat racing with beginHandover reach the successor one way or the other.
    private final AtomicLong lastHeartbeat = new AtomicLong(NEVER);

    // Copy-on-write: the notification thread iterates a snapshot while other threads add or remove listeners.
    private final CopyOnWriteArrayList<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    // Appended to under the lock (so in lock order), drained by the notification thread only.
    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
    // true while a drain task is queued or running; CAS false->true by whoever schedules it. The CAS and the queue's
    // own ordering guarantee that an event offered before the drain task clears the flag is seen by that task or a new
    // one.
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    // Commands waiting for a retry on the notification thread. Incremented before the retry is queued and decremented
    // after it ran; a command or send that sees it above 0 queues behind them, which keeps the order.
    private final AtomicInteger deferred = new AtomicInteger();
    // Set once, by the first of close and completeHandover, so the strategy folds the counters into its totals once.
    private final AtomicBoolean retired = new AtomicBoolean();

    // Counts every query exactly and times a sample of them (see QueryMeter for its threading).
    private final QueryMeter meter;
    // Counters only: each is read on its own and orders nothing else.
    private final LongAdder mutexContentions = new LongAdder();
    private final LongAdder commandContentions = new LongAdder();
    private final LongAdder callbacksDispatched = new LongAdder();
    private final LongAdder lockTimeouts = new LongAdder();
    private final LongAdder deferredCommands = new LongAdder();
    private final LongAdder droppedCommands = new LongAdder();
    private final LongAdder sendErrors = new LongAdder();
    private final LongAdder listenerErrors = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder droppedMessages = new LongAdder();
    // System.nanoTime() of the last logged lock timeout, NEVER before the first; CAS by the thread that logs. Orders
    // nothing else.
    private final AtomicLong lastTimeoutLog = new AtomicLong(NEVER);
    private final LongAdder timeoutsNotLogged = new LongAdder();

    MutexNetworkConnection(ConnectionContext context, Env env) {
        this.context = Objects.requireNonNull(context, "context");
        this.env = Objects.requireNonNull(env, "env");
        this.meter = new QueryMeter(env.latency());
        this.peerAddress = context.host() + ":" + context.httpPort();
    }

    @Override
    public String strategy() {
        NetworkConnection next = successor;
        return next != null ? next.strategy() : STRATEGY;
    }

    // ---- commands ------------------------------------------------------------------------------------------------

    @Override
    public void connect() {
        publicCommand("connect", NetworkConnection::connect, out -> {
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
        publicCommand("disconnect", NetworkConnection::disconnect, out -> {
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
        publicCommand("handshakeCompleted", c -> c.handshakeCompleted(peer), out -> {
            if (!closed) {
                applyHandshake(peer, out);
            }
            return null;
        });
    }

    @Override
    public void goodbyeReceived() {
        publicCommand("goodbyeReceived", NetworkConnection::goodbyeReceived, out -> {
            if (!closed) {
                generation++;
                setState(DISCONNECTED, out);
            }
            return null;
        });
    }

    /** Lock-free while ACTIVE; during a handover the heartbeat is kept for the successor. */
    @Override
    public void notifyHeartbeat() {
        NetworkConnection next = successor;
        if (next != null) {
            next.notifyHeartbeat();
            return;
        }
        if (phase == Phase.ACTIVE) {
            if (!published.closed()) {
                lastHeartbeat.set(System.nanoTime());
            }
            if (phase == Phase.ACTIVE) {
                return; // beginHandover, if it ran meanwhile, captured the new time (see lastHeartbeat)
            }
        }
        publicCommand("notifyHeartbeat", NetworkConnection::notifyHeartbeat, out -> {
            if (!closed) {
                lastHeartbeat.set(System.nanoTime());
            }
            return null;
        });
    }

    @Override
    public void checkHeartbeat() {
        publicCommand("checkHeartbeat", NetworkConnection::checkHeartbeat, out -> {
            if (closed || state != CONNECTED) {
                return null;
            }
            long last = lastHeartbeat.get();
            long silentNanos = last == NEVER ? Long.MAX_VALUE : System.nanoTime() - last;
            if (silentNanos > context.heartbeatTimeout().toNanos()) {
                setState(FAILED, out);
                String message = last == NEVER ? "heartbeat timeout: no heartbeat received"
                        : "heartbeat timeout: no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms";
                out.add(new ErrorEvent(message));
            }
            return null;
        });
    }

    /**
     * Sends now when CONNECTED, calling the link outside the lock. While commands wait for a retry, or during a
     * handover, the frame queues behind them (it is accepted when the connection was CONNECTED; if a command queued
     * before it disconnects, it is dropped then and counted where it is dropped).
     */
    @Override
    public boolean send(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        NetworkConnection next = successor;
        if (next != null) {
            return next.send(frame);
        }
        if (deferred.get() == 0 && (tryLockNow() || pollLock("send"))) {
            Phase p;
            NodeInfo target = null;
            boolean accepted = false;
            NetworkConnection forwardTo = null;
            try {
                p = effectivePhase();
                switch (p) {
                    case ACTIVE -> target = !closed && state == CONNECTED ? remoteNode : null;
                    case HANDING_OVER -> {
                        kept.add(c -> c.send(frame));
                        accepted = state == CONNECTED;
                    }
                    case HANDED_OVER -> forwardTo = successor;
                    default -> throw new IllegalStateException("unknown phase " + p);
                }
            } finally {
                lock.unlock();
            }
            if (p == Phase.HANDING_OVER) {
                return accepted;
            }
            return p == Phase.HANDED_OVER ? forwardTo.send(frame) : sendNow(target, frame);
        }
        Snapshot s = published;
        boolean connected = !s.closed() && s.state() == CONNECTED;
        if (deferred.get() == 0 && phase == Phase.ACTIVE) { // the lock timed out: decide from the snapshot (A.3)
            return sendNow(connected ? s.remoteNode() : null, frame);
        }
        if (!connected) {
            droppedMessages.increment();
            return false;
        }
        publicCommand("send", c -> c.send(frame), out -> {
            NodeInfo target = !closed && state == CONNECTED ? remoteNode : null;
            return () -> sendNow(target, frame);
        });
        return true;
    }

    /** Gives the frame to the link (never under the lock); a null target means not connected. */
    private boolean sendNow(NodeInfo target, DataFrame frame) {
        assert !lock.isHeldByCurrentThread() : "never call the peer link under the connection lock";
        if (target == null) {
            droppedMessages.increment();
            return false;
        }
        try {
            context.link().sendData(target, frame);
            return true;
        } catch (RuntimeException e) {
            sendErrors.increment();
            droppedMessages.increment();
            LOG.debug("{}: send failed", this, e);
            return false;
        }
    }

    @Override
    public void addListener(ConnectionListener listener) {
        Objects.requireNonNull(listener, "listener");
        publicCommand("addListener", c -> c.addListener(listener), out -> {
            listeners.addIfAbsent(listener);
            return null;
        });
    }

    @Override
    public void removeListener(ConnectionListener listener) {
        if (listener == null) {
            return;
        }
        publicCommand("removeListener", c -> c.removeListener(listener), out -> {
            listeners.remove(listener);
            return null;
        });
    }

    /**
     * Closes for good: DISCONNECTED (one event if it was not already), later commands are ignored. Idempotent. During a
     * handover the close is kept for the successor; after it, close is a no-op (the successor is not ours to close).
     */
    @Override
    public void close() {
        if (successor != null) {
            return;
        }
        command("close", out -> switch (effectivePhase()) {
            case ACTIVE -> closeLocked(out);
            case HANDING_OVER -> {
                kept.add(NetworkConnection::close);
                yield null;
            }
            case HANDED_OVER -> null;
        });
    }

    /**
     * The strategy's close on deactivation: like {@link #close()}, except that a connection being or already handed
     * over is left alone, because it belongs to the swap now.
     */
    void closeForShutdown() {
        if (successor != null) {
            return;
        }
        command("close", out -> effectivePhase() == Phase.ACTIVE ? closeLocked(out) : null);
    }

    private Runnable closeLocked(List<Event> out) {
        if (closed) {
            return null;
        }
        closed = true;
        generation++;
        setState(DISCONNECTED, out);
        return this::retire;
    }

    private void retire() {
        if (retired.compareAndSet(false, true)) {
            env.onRetired().accept(this);
        }
    }

    // ---- queries -------------------------------------------------------------------------------------------------

    @Override
    public ConnectionState getState() {
        NetworkConnection next = successor;
        if (next != null) {
            return next.getState();
        }
        long t0 = meter.start();
        ConnectionState s;
        if (!lock.isLocked()) {
            s = published.state(); // no change in progress: the snapshot is what the lock guards (class comment)
        } else if (lockForQuery()) {
            try {
                s = state;
            } finally {
                lock.unlock();
            }
        } else {
            s = published.state();
        }
        meter.end(t0);
        return s;
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return getRemoteNode().map(NodeInfo::id);
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        NetworkConnection next = successor;
        if (next != null) {
            return next.getRemoteNode();
        }
        long t0 = meter.start();
        NodeInfo node;
        if (!lock.isLocked()) {
            node = published.remoteNode(); // as in getState
        } else if (lockForQuery()) {
            try {
                node = remoteNode;
            } finally {
                lock.unlock();
            }
        } else {
            node = published.remoteNode();
        }
        meter.end(t0);
        return Optional.ofNullable(node);
    }

    /** Lock-free: the immutable list last stored, never a half-written one. */
    @Override
    public List<DeviceInfo> getRemoteDevices() {
        NetworkConnection next = successor;
        if (next != null) {
            return next.getRemoteDevices();
        }
        long t0 = meter.start();
        List<DeviceInfo> devices = remoteDevices.get();
        meter.end(t0);
        return devices;
    }

    /** Lock-free, from the monotonic clock. */
    @Override
    public long getTimeSinceLastHeartbeat() {
        NetworkConnection next = successor;
        if (next != null) {
            return next.getTimeSinceLastHeartbeat();
        }
        long t0 = meter.start();
        long last = lastHeartbeat.get();
        long age = last == NEVER ? Long.MAX_VALUE
                : TimeUnit.NANOSECONDS.toMillis(Math.max(0, System.nanoTime() - last));
        meter.end(t0);
        return age;
    }

    /** The API metrics of this connection (after a handover: of its successor). Lock-free but for the histogram's. */
    @Override
    public ConnectionMetrics metrics() {
        NetworkConnection next = successor;
        if (next != null) {
            return next.metrics();
        }
        return detailedMetrics().toApi(meter.latency());
    }

    /** All counters of this connection itself, the mutex ones included; frozen once it is handed over. */
    public MutexConnectionMetrics detailedMetrics() {
        return new MutexConnectionMetrics(meter.queries(), mutexContentions.sum(), commandContentions.sum(),
                callbacksDispatched.sum(), lockTimeouts.sum(), deferredCommands.sum(), droppedCommands.sum(),
                sendErrors.sum(), listenerErrors.sum(), errors.sum(), droppedMessages.sum(), deferred.get());
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
        return "mutex connection to " + peerAddress + (node == null ? "" : " (" + node.id() + ")")
                + (successor == null ? "" : " (handed over)");
    }

    // ---- handover (hot swap) -------------------------------------------------------------------------------------

    /**
     * Stops running commands (they are kept for the successor), abandons an outbound handshake in flight, captures the
     * state and waits, at most the handover timeout, until this connection's pending callbacks are delivered.
     *
     * @throws IllegalStateException when closed, already handing over, called on the notification thread (from a
     *                               listener callback: it would wait for itself), or the lock stayed busy
     */
    @Override
    public ConnectionHandover beginHandover() {
        if (successor != null) {
            throw new IllegalStateException(this + " has already been handed over");
        }
        if (env.onNotifyThread().getAsBoolean()) {
            throw new IllegalStateException("beginHandover must not be called from a listener callback of the "
                    + "mutex strategy: it waits for the callbacks to be delivered");
        }
        if (!lockWithRetries("beginHandover")) {
            throw new IllegalStateException(this + ": beginHandover gave up, the connection lock stayed busy");
        }
        ConnectionHandover handover;
        try {
            if (closed) {
                throw new IllegalStateException(this + " is closed");
            }
            if (phase != Phase.ACTIVE) {
                throw new IllegalStateException(this + ": a handover has already begun");
            }
            generation++; // an outbound handshake in flight is abandoned; a CONNECTING successor runs its own
            phase = Phase.HANDING_OVER;
            Optional<Handshake> peer = remoteNode == null ? Optional.empty()
                    : Optional.of(new Handshake(remoteNode, remoteDevices.get()));
            handover = new ConnectionHandover(context, state, peer, lastHeartbeat.get(), List.copyOf(listeners),
                    List.of());
        } finally {
            lock.unlock();
        }
        awaitQuiet();
        LOG.debug("{}: handover begun in state {}", this, handover.state());
        return handover;
    }

    /**
     * Replays the kept calls on {@code next}, in order and outside the lock, then forwards every later call to it and
     * leaves the strategy's set of open connections.
     *
     * @throws IllegalStateException when no handover has begun, it is already complete, or the lock stayed busy
     */
    @Override
    public void completeHandover(NetworkConnection next) {
        Objects.requireNonNull(next, "successor");
        if (next == this) {
            throw new IllegalArgumentException("a connection cannot be its own successor");
        }
        int replayed = 0;
        while (true) {
            if (!lockWithRetries("completeHandover")) {
                throw new IllegalStateException(this + ": completeHandover gave up, the connection lock stayed busy");
            }
            List<Consumer<NetworkConnection>> batch;
            try {
                if (phase != Phase.HANDING_OVER) {
                    throw new IllegalStateException(this + ": no handover to complete (phase " + phase + ")");
                }
                if (kept.isEmpty()) {
                    successor = next;
                    phase = Phase.HANDED_OVER;
                    break;
                }
                batch = List.copyOf(kept);
                kept.clear();
            } finally {
                lock.unlock();
            }
            for (Consumer<NetworkConnection> call : batch) {
                try {
                    call.accept(next);
                } catch (RuntimeException e) {
                    LOG.error("{}: a kept call failed on the successor {}", this, next, e);
                }
            }
            replayed += batch.size();
        }
        LOG.debug("{}: handed over to {}, {} kept calls replayed", this, next, replayed);
        retire();
    }

    /**
     * Takes the connection back after {@link #beginHandover()} when no successor could be made: replays the kept calls
     * on this connection, in order and outside the lock (calls arriving meanwhile keep queueing behind them), then
     * runs every later call itself again and, if it was CONNECTING, dials the handshake that beginHandover abandoned.
     *
     * @throws IllegalStateException when no handover has begun, it is complete, or the lock stayed busy
     */
    @Override
    public void abortHandover() {
        int replayed = 0;
        long gen = -1;
        while (true) {
            if (!lockWithRetries("abortHandover")) {
                throw new IllegalStateException(this + ": abortHandover gave up, the connection lock stayed busy");
            }
            List<Consumer<NetworkConnection>> batch = null;
            try {
                if (phase != Phase.HANDING_OVER || (resumer != null && resumer != Thread.currentThread())) {
                    throw new IllegalStateException(this + ": no handover to abort (phase " + phase + ")");
                }
                if (kept.isEmpty()) {
                    phase = Phase.ACTIVE;
                    resumer = null;
                    if (!closed && state == CONNECTING) {
                        gen = ++generation;
                    }
                } else {
                    resumer = Thread.currentThread();
                    batch = List.copyOf(kept);
                    kept.clear();
                }
            } finally {
                lock.unlock();
            }
            if (batch == null) {
                break;
            }
            for (Consumer<NetworkConnection> call : batch) {
                try {
                    call.accept(this);
                } catch (RuntimeException e) {
                    LOG.error("{}: a kept call failed when the handover was aborted", this, e);
                }
            }
            replayed += batch.size();
        }
        LOG.debug("{}: handover aborted, {} kept calls replayed", this, replayed);
        if (gen >= 0) {
            startHandshake(gen);
        }
    }

    /**
     * Continues from a predecessor's handover. Called once by the strategy, before the connection is given to anyone,
     * so nothing else can see it yet. Fires no callback; sends the handed-over frames first; runs a handshake of its
     * own when the predecessor was CONNECTING.
     */
    void adopt(ConnectionHandover h) {
        long gen = -1;
        NodeInfo target;
        lock.lock(); // uncontended: no other thread has this connection yet
        try {
            state = h.state();
            if (h.peer().isPresent()) {
                remoteNode = h.peer().get().node();
                remoteDevices.set(h.peer().get().devices());
            }
            lastHeartbeat.set(h.lastHeartbeatNanos());
            listeners.addAllAbsent(h.listeners());
            if (state == CONNECTING) {
                gen = ++generation;
            }
            published = new Snapshot(state, remoteNode, false);
            target = state == CONNECTED ? remoteNode : null;
        } finally {
            lock.unlock();
        }
        for (DataFrame f : h.queuedFrames()) {
            sendNow(target, f);
        }
        if (gen >= 0) {
            startHandshake(gen);
        }
    }

    /** Waits on the notification thread until no callback of ours is pending and no deferred command waits. */
    private void awaitQuiet() {
        long timeoutMs = env.handoverTimeoutMillis().getAsLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            FutureTask<Boolean> barrier = new FutureTask<>(
                    () -> events.isEmpty() && !drainScheduled.get() && deferred.get() == 0);
            try {
                env.notifyExecutor().execute(barrier);
            } catch (RejectedExecutionException e) {
                return; // the strategy is stopping: nothing more will be delivered
            }
            try {
                if (barrier.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    return;
                }
            } catch (TimeoutException e) {
                LOG.error("{}: callbacks still pending after {} ms of handover; they may arrive after the "
                        + "successor's", this, timeoutMs);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.warn("{}: interrupted while waiting for pending callbacks before a handover", this);
                return;
            } catch (ExecutionException e) {
                throw new IllegalStateException("handover barrier failed", e.getCause());
            }
        }
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
        lastHeartbeat.set(System.nanoTime());
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
            env.connectExecutor().execute(() -> runHandshake(gen));
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

    /** Caller holds the lock. The phase as the calling thread must act on it (see {@link #resumer}). */
    private Phase effectivePhase() {
        Phase p = phase;
        return p == Phase.HANDING_OVER && resumer == Thread.currentThread() ? Phase.ACTIVE : p;
    }

    /** Caller holds the lock. A disconnect, goodbye, close, handover or newer handshake since {@code gen} wins. */
    private boolean isCurrentHandshake(long gen) {
        return !closed && gen == generation && state == CONNECTING && phase == Phase.ACTIVE;
    }

    // ---- locking -------------------------------------------------------------------------------------------------

    /**
     * The non-waiting attempt; when the first one fails, the caller counts a contention. {@code tryLock(0,
     * NANOSECONDS)} rather than {@code tryLock()}: it honours the fair queue, so it fails when commands are already
     * waiting, instead of barging past them.
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
        return pollLock("query");
    }

    /**
     * The bounded wait of commands: queues in the fair lock. False after a timeout (logged) or an interrupt (flag set
     * again).
     */
    private boolean timedLock(String operation) {
        long timeoutMs = env.lockTimeoutMillis().getAsLong();
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

    /**
     * The bounded wait of queries and sends: polls with {@link #tryLockNow()} and backs off (spins, yields, then parks
     * of at most {@value #MAX_BACKOFF_NANOS} ns; straight to parking while commands are queued) instead of queueing.
     * False after a timeout (logged) or an interrupt (flag set again). Readers are many and their critical sections a
     * few field reads; queued, they form a convoy in which the lock passes on one scheduling round at a time, and with
     * more runnable threads than cores they timed out while the lock stood free. Polling, they never queue, and they
     * give way to queued commands.
     */
    private boolean pollLock(String operation) {
        long timeoutMs = env.lockTimeoutMillis().getAsLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long park = MIN_BACKOFF_NANOS;
        for (int round = 0;; round++) {
            if (tryLockNow()) {
                return true;
            }
            if (Thread.currentThread().isInterrupted()) {
                LOG.debug("{}: interrupted while waiting for the connection lock ({})", this, operation);
                return false;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            boolean commandsWaiting = lock.hasQueuedThreads();
            if (!commandsWaiting && round < SPIN_ROUNDS) {
                Thread.onSpinWait(); // held by a reader: free again within nanoseconds
            } else if (!commandsWaiting && round < SPIN_ROUNDS + YIELD_ROUNDS) {
                Thread.yield();
            } else { // commands go first: get off the CPU so they can run
                LockSupport.parkNanos(Math.min(park, left));
                park = Math.min(park * 2, MAX_BACKOFF_NANOS);
            }
        }
        lockTimeouts.increment();
        logLockTimeout(operation, timeoutMs);
        return false;
    }

    /** Up to {@value #MAX_COMMAND_ATTEMPTS} bounded waits, for the handover steps that cannot be deferred. */
    private boolean lockWithRetries(String operation) {
        for (int attempt = 1; attempt <= MAX_COMMAND_ATTEMPTS; attempt++) {
            if (tryLockNow() || timedLock(operation)) {
                return true;
            }
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
        }
        return false;
    }

    /**
     * Logs a timeout with the owner's stack at WARN: the first one, then at most one per
     * {@value #TIMEOUT_LOG_INTERVAL_MS} ms per connection, saying how many were not logged in between (under overload
     * every waiter times out at once, and a stack per waiter would add to the overload).
     */
    private void logLockTimeout(String operation, long timeoutMs) {
        if (!LOG.isWarnEnabled()) {
            return;
        }
        long now = System.nanoTime();
        long last = lastTimeoutLog.get();
        if (last != NEVER && now - last < TimeUnit.MILLISECONDS.toNanos(TIMEOUT_LOG_INTERVAL_MS)
                || !lastTimeoutLog.compareAndSet(last, now)) {
            timeoutsNotLogged.increment();
            return;
        }
        long skipped = timeoutsNotLogged.sumThenReset();
        Thread owner = lock.owner();
        StringBuilder stack = new StringBuilder();
        if (owner != null) {
            for (StackTraceElement e : owner.getStackTrace()) {
                stack.append("\n\tat ").append(e);
            }
        }
        LOG.warn("{}: {} waited {} ms for the connection lock, held by {} ({} more timeouts not logged since the "
                + "last report){}", this, operation, timeoutMs,
                owner == null ? "(nobody by now)" : "\"" + owner.getName() + "\"", skipped, stack);
    }

    /**
     * A public command: forwarded after a handover, kept during one, else run by {@link #command}. The phase is read
     * again under the lock, so a command racing with beginHandover is either in the captured state or kept.
     */
    private void publicCommand(String name, Consumer<NetworkConnection> replay, Command body) {
        NetworkConnection next = successor;
        if (next != null) {
            replay.accept(next);
            return;
        }
        command(name, out -> switch (effectivePhase()) {
            case ACTIVE -> body.apply(out);
            case HANDING_OVER -> {
                kept.add(replay);
                yield null;
            }
            case HANDED_OVER -> {
                NetworkConnection s = successor;
                yield () -> replay.accept(s);
            }
        });
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
            events.addAll(out);
        } finally {
            // Even if the body failed half-way: a lock-free query must never see a snapshot older than the fields.
            published = new Snapshot(state, remoteNode, closed);
            lock.unlock();
        }
        if (!out.isEmpty()) {
            for (Event e : out) {
                if (e instanceof ErrorEvent) {
                    errors.increment();
                }
            }
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
            env.notifyExecutor().execute(() -> retry(name, body));
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
            errors.increment();
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
                env.notifyExecutor().execute(this::drain);
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
}
