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
import java.util.function.Supplier;

import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.common.EngineEvent;
import org.midimesh.common.EngineEvent.DevicesEvent;
import org.midimesh.common.EngineEvent.ErrorEvent;
import org.midimesh.common.EngineEvent.StateEvent;
import org.midimesh.common.metrics.QueryMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine of one connection, guarded by one mutex (workplan Approach A, phases A.1 to A.3). Thread-safe: commands
 * and queries may come from any thread; the outbound handshake runs on the strategy's connect executor, and every
 * event goes to this engine's one {@link EngineEvents} on the strategy's notification thread.
 *
 * <h2>Locking</h2>
 * One {@link ReentrantLock} guards {@code state}, {@code remoteNode}, {@code generation}, {@code closed} and the move
 * of {@code phase} out of ACTIVE. It is taken with a non-waiting try first (a failure counts as a contention), then
 * with a bounded wait: commands queue in the fair lock ({@link #timedLock}); queries and sends poll with backoff and
 * never queue ({@link #pollLock}), so the queue holds only the few commands, which get the lock ahead of the many
 * readers. Nothing is called out while it is held: no event, no handshake, no peer send, no strategy callback.
 * <p>A query takes the lock only while someone holds it. Every critical section that changes a field ends by
 * publishing {@link #published}, the immutable snapshot of those fields, before it unlocks; so while the lock is free
 * (one volatile read of its state) the snapshot is exactly what the lock guards, and the query reads it instead of
 * acquiring. A query that finds the lock held is a contention (workplan Appendix C) and waits for the lock as below.
 * This keeps the uncontended getState at two volatile reads plus the query count, which the 5 ns target needs (a lock
 * acquire and release alone costs more on our hardware). State changes only append events to this engine's event
 * queue under the lock (so the queue is in lock order); the notification thread delivers them after the lock is
 * released.
 * <p>When the bounded wait times out (or is interrupted; the interrupt flag is set again), the lock owner and its
 * stack are logged at WARN and:
 * <ul>
 * <li>a <b>query</b> answers from {@link #published}, the snapshot written at the end of every change, so it is the
 * state as of the last completed change;</li>
 * <li>{@link #send} decides from the same snapshot;</li>
 * <li>a <b>command</b> is not lost: it is deferred to the notification thread, which retries it (each attempt bounded
 * by the lock timeout, at most {@value #MAX_COMMAND_ATTEMPTS} attempts) and, if every attempt fails, drops it with an
 * ERROR log and an {@code error} event. While any command of this engine waits for such a retry, later commands and
 * sends queue behind it on the same thread, so they still take effect in the order they were issued.</li>
 * </ul>
 *
 * <h2>Lock-free parts</h2>
 * The device list is an immutable list behind an {@link AtomicReference} (replaced whole, never half-written); the
 * last heartbeat time is a {@link System#nanoTime()} reading in an {@link AtomicLong}. Both are read without the lock.
 *
 * <h2>Handover (hot swap)</h2>
 * The strategy manager calls {@link #beginHandover()} only when no command is running here, and holds every later
 * one back until {@link #completeHandover()} or {@link #abortHandover()}. beginHandover first waits, on the
 * notification thread, until no deferred command is pending: those were accepted before the handover, so they take
 * effect before the state is captured. Then, in one critical section, it moves {@code phase} from ACTIVE to
 * HANDING_OVER, bumps {@code generation} (so the late result of an outbound handshake in flight is ignored; a
 * successor given CONNECTING runs its own) and captures the {@link Handover}, with no queued frames (sends are
 * synchronous). After unlocking, it waits until every event raised so far has been delivered. Both waits together are
 * bounded by the handover timeout. When it runs out, beginHandover throws and the engine goes on as before: after the
 * first wait nothing has changed; after the second the engine is taken back as by abortHandover (a handshake that
 * was in flight is dialled again), since a successor's events must never overtake the ones still pending here.
 * <p>From HANDING_OVER on, every command throws {@link IllegalStateException} (it would be a manager bug), internal
 * results (handshake results, deferred retries) change nothing and raise no event, and queries answer with the
 * frozen state. {@link #completeHandover()} moves to HANDED_OVER and folds the counters into the strategy's totals;
 * {@link #abortHandover()} returns to ACTIVE and dials again if the captured state was CONNECTING.
 */
public final class MutexConnectionEngine implements ConnectionEngine {

    static final String STRATEGY = "mutex";
    /** Attempts a deferred command (or the lock of beginHandover) gets before it is given up. */
    static final int MAX_COMMAND_ATTEMPTS = 10;

    /** Backoff of the readers' bounded wait: spins, then yields, then parks from MIN to MAX nanoseconds, doubling. */
    private static final int SPIN_ROUNDS = 32;
    private static final int YIELD_ROUNDS = 16;
    private static final long MIN_BACKOFF_NANOS = 1_000;
    static final long MAX_BACKOFF_NANOS = 1_000_000;
    /** At most one lock-timeout WARN per engine in this many milliseconds. */
    static final long TIMEOUT_LOG_INTERVAL_MS = 1000;

    /** {@link #lastHeartbeat} before the first heartbeat; the sentinel of {@link Handover#lastHeartbeatNanos()}. */
    private static final long NEVER = Long.MIN_VALUE;

    private static final Logger LOG = LoggerFactory.getLogger(MutexConnectionEngine.class);

    /**
     * What the strategy gives each of its engines.
     *
     * @param notifyExecutor        single thread delivering every event (and running deferred commands)
     * @param connectExecutor       runs the blocking outbound handshake
     * @param lockTimeoutMillis     the current bounded lock wait, read at every timed acquisition
     * @param handoverTimeoutMillis how long beginHandover may wait for deferred commands and pending events
     * @param notifyThread          the strategy's notification thread (null before it started): beginHandover
     *                              refuses to run on it and logs its stack when a wait for it runs out
     * @param onRetired             told once, outside the lock, when the engine is closed or handed over
     * @param latency               the strategy-wide query latency histogram every sample also goes to
     */
    record Env(Executor notifyExecutor, Executor connectExecutor, LongSupplier lockTimeoutMillis,
            LongSupplier handoverTimeoutMillis, Supplier<Thread> notifyThread,
            Consumer<MutexConnectionEngine> onRetired, AtomicHistogram latency) {

        Env {
            Objects.requireNonNull(notifyExecutor, "notifyExecutor");
            Objects.requireNonNull(connectExecutor, "connectExecutor");
            Objects.requireNonNull(lockTimeoutMillis, "lockTimeoutMillis");
            Objects.requireNonNull(handoverTimeoutMillis, "handoverTimeoutMillis");
            Objects.requireNonNull(notifyThread, "notifyThread");
            Objects.requireNonNull(onRetired, "onRetired");
            Objects.requireNonNull(latency, "latency");
        }
    }

    /** Where the engine stands in a move to another strategy. */
    enum Phase {
        /** Runs its commands. */
        ACTIVE,
        /** Between beginHandover and completeHandover or abortHandover: refuses commands, state frozen. */
        HANDING_OVER,
        /** After completeHandover: refuses commands for good, answers queries with the frozen state. */
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


    /** The body of a command: runs with the lock held, appends its events, returns what to run after unlocking. */
    @FunctionalInterface
    private interface Command {
        Runnable apply(List<EngineEvent> events);
    }

    private final ConnectionContext context;
    // Where every event of this engine goes (given at create or adopt); called on the notification thread only.
    private final EngineEvents sink;
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

    // The lifecycle of a handover, changed by CAS only: ACTIVE -> HANDING_OVER by beginHandover under the lock (so the
    // capture is atomic with every command's check), HANDING_OVER -> HANDED_OVER by completeHandover and
    // HANDING_OVER -> ACTIVE by abortHandover (or a beginHandover that gave up), both without the lock. Read under the
    // lock by commands and handshake results, and without it by send() and notifyHeartbeat(). Its volatile
    // write/read pair with lastHeartbeat makes a heartbeat racing with beginHandover detectable (notifyHeartbeat).
    // Publishes nothing else.
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.ACTIVE);

    // Written under the lock as the last step of every change; read without the lock by queries, send() and
    // notifyHeartbeat() when they cannot (or need not) take it. The volatile write publishes the immutable record, so a
    // reader sees the state and the node of one and the same change, never a mix.
    private volatile Snapshot published = new Snapshot(DISCONNECTED, null, false);

    // Set under the lock to an immutable list (whole replacement); read anywhere without the lock. The volatile
    // set/get pair publishes the list's contents with it, so a reader sees a complete list, never a half-written one.
    private final AtomicReference<List<DeviceInfo>> remoteDevices = new AtomicReference<>(List.of());

    // System.nanoTime() of the last heartbeat or handshake, NEVER before the first. Monotonic clock only. Written by
    // notifyHeartbeat() (any thread, lock-free) and by handshakes under the lock; read anywhere. Publishes nothing
    // else; see phase for its pairing with beginHandover.
    private final AtomicLong lastHeartbeat = new AtomicLong(NEVER);

    // Appended to under the lock (so in lock order; a dropped deferred command appends its error on the notification
    // thread), drained by the notification thread only.
    private final ConcurrentLinkedQueue<EngineEvent> events = new ConcurrentLinkedQueue<>();
    // true while a drain task is queued or running; CAS false->true by whoever schedules it. The CAS and the queue's
    // own ordering guarantee that an event offered before the drain task clears the flag is seen by that task or a new
    // one.
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    // Commands waiting for a retry on the notification thread. Incremented before the retry is queued and decremented
    // after it ran; a command or send that sees it above 0 queues behind them, which keeps the order. Orders nothing
    // else: beginHandover waits for 0 on the notification thread, where the retries run.
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
    private final LongAdder handoverTimeouts = new LongAdder();
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

    MutexConnectionEngine(ConnectionContext context, EngineEvents events, Env env) {
        this.context = Objects.requireNonNull(context, "context");
        this.sink = Objects.requireNonNull(events, "events");
        this.env = Objects.requireNonNull(env, "env");
        this.meter = new QueryMeter(env.latency());
        this.peerAddress = context.host() + ":" + context.httpPort();
    }

    // ---- commands ------------------------------------------------------------------------------------------------

    @Override
    public void connect() {
        publicCommand("connect", out -> {
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
        publicCommand("disconnect", out -> {
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
        publicCommand("handshakeCompleted", out -> {
            if (!closed) {
                applyHandshake(peer, out);
            }
            return null;
        });
    }

    @Override
    public void goodbyeReceived() {
        publicCommand("goodbyeReceived", out -> {
            if (!closed) {
                generation++;
                setState(DISCONNECTED, out);
            }
            return null;
        });
    }

    /**
     * Lock-free. Throws {@link IllegalStateException} once a handover has begun, and also when the phase changed
     * while the heartbeat was being recorded: that heartbeat raced with beginHandover (a manager bug) and may be
     * missing from the captured state.
     */
    @Override
    public void notifyHeartbeat() {
        requireActive("notifyHeartbeat");
        if (!published.closed()) {
            lastHeartbeat.set(System.nanoTime());
        }
        // beginHandover changes phase, then reads lastHeartbeat: if the phase still reads ACTIVE here, the handover
        // (if any) captured this heartbeat.
        requireActive("notifyHeartbeat");
    }

    @Override
    public void checkHeartbeat() {
        publicCommand("checkHeartbeat", out -> {
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
     * Sends now when CONNECTED, calling the link outside the lock. While commands wait for a retry, the frame queues
     * behind them (it is accepted when the snapshot says CONNECTED; if a command queued before it disconnects, it is
     * dropped then and counted where it is dropped).
     */
    @Override
    public boolean send(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        requireActive("send");
        if (deferred.get() == 0 && (tryLockNow() || pollLock("send"))) {
            Phase p;
            NodeInfo target;
            try {
                p = phase.get();
                target = !closed && state == CONNECTED ? remoteNode : null;
            } finally {
                lock.unlock();
            }
            if (p != Phase.ACTIVE) {
                throw refused("send", p);
            }
            return sendNow(target, frame);
        }
        Snapshot s = published;
        boolean connected = !s.closed() && s.state() == CONNECTED;
        if (deferred.get() == 0) { // the lock timed out: decide from the snapshot (A.3)
            return sendNow(connected ? s.remoteNode() : null, frame);
        }
        if (!connected) {
            droppedMessages.increment();
            return false;
        }
        publicCommand("send", out -> {
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

    /** Closes for good: DISCONNECTED (one event if it was not already), later commands are ignored. Idempotent. */
    @Override
    public void close() {
        publicCommand("close", this::closeLocked);
    }

    /**
     * The strategy's close on deactivation: like {@link #close()}, except that an engine being or already handed over
     * is left alone, because it belongs to the swap.
     */
    void closeForShutdown() {
        command("close", out -> phase.get() == Phase.ACTIVE ? closeLocked(out) : null);
    }

    private Runnable closeLocked(List<EngineEvent> out) {
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
        long t0 = meter.start();
        List<DeviceInfo> devices = remoteDevices.get();
        meter.end(t0);
        return devices;
    }

    /** Lock-free, from the monotonic clock. */
    @Override
    public long getTimeSinceLastHeartbeat() {
        long t0 = meter.start();
        long last = lastHeartbeat.get();
        long age = last == NEVER ? Long.MAX_VALUE
                : TimeUnit.NANOSECONDS.toMillis(Math.max(0, System.nanoTime() - last));
        meter.end(t0);
        return age;
    }

    /** The API metrics of this engine, at any time (also after a handover). Lock-free but for the histogram's. */
    @Override
    public ConnectionMetrics metrics() {
        return detailedMetrics().toApi(meter.latency());
    }

    /** All counters of this engine, the mutex ones included. */
    public MutexConnectionMetrics detailedMetrics() {
        return new MutexConnectionMetrics(meter.queries(), mutexContentions.sum(), commandContentions.sum(),
                callbacksDispatched.sum(), lockTimeouts.sum(), handoverTimeouts.sum(), deferredCommands.sum(),
                droppedCommands.sum(), sendErrors.sum(), listenerErrors.sum(), errors.sum(), droppedMessages.sum(),
                deferred.get());
    }

    /** For tests: the handover phase now. */
    Phase phase() {
        return phase.get();
    }

    /** For tests: the engine lock, to provoke contention and timeouts. */
    ReentrantLock lockForTest() {
        return lock;
    }

    @Override
    public String toString() {
        NodeInfo node = published.remoteNode();
        Phase p = phase.get();
        return "mutex engine for " + peerAddress + (node == null ? "" : " (" + node.id() + ")")
                + (p == Phase.ACTIVE ? "" : " (" + p + ")");
    }

    // ---- handover (hot swap) -------------------------------------------------------------------------------------

    /**
     * Waits until the deferred commands have run, captures the state (abandoning an outbound handshake in flight),
     * then waits until every event raised so far is delivered; both waits together take at most the handover timeout.
     *
     * @throws IllegalStateException when closed, already handing over or handed over, called on the notification
     *                               thread (from an event: it would wait for itself), the lock stayed busy, a wait ran
     *                               out or was interrupted (the flag is set again); then the engine goes on as before
     */
    @Override
    public Handover beginHandover() {
        if (Thread.currentThread() == env.notifyThread().get()) {
            throw new IllegalStateException("beginHandover must not be called from an event of the mutex strategy: "
                    + "it waits for the events to be delivered");
        }
        checkCanHandOver();
        long timeoutMs = env.handoverTimeoutMillis().getAsLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        // Accepted before the handover, so they belong to the captured state. No external command arrives meanwhile
        // (the manager holds them back); a handshake result deferred after this wait is ignored below.
        if (!awaitOnNotifyThread(() -> deferred.get() == 0, deadline, "the deferred commands")) {
            throw new IllegalStateException(this + ": beginHandover gave up: the notification thread did not get "
                    + "through the deferred commands (and the events queued before them) " + within(timeoutMs)
                    + "; nothing changed");
        }
        if (!lockWithRetries("beginHandover")) {
            throw new IllegalStateException(this + ": beginHandover gave up, the connection lock stayed busy");
        }
        Handover handover;
        try {
            checkCanHandOver();
            Phase p = phase.get();
            if (!phase.compareAndSet(Phase.ACTIVE, Phase.HANDING_OVER)) {
                throw refusedHandover(p);
            }
            generation++; // an outbound handshake in flight is abandoned; a CONNECTING successor runs its own
            Optional<Handshake> peer = remoteNode == null ? Optional.empty()
                    : Optional.of(new Handshake(remoteNode, remoteDevices.get()));
            // After the phase CAS: a heartbeat that read ACTIVE after setting lastHeartbeat is in this reading.
            handover = new Handover(context, state, peer, lastHeartbeat.get(), List.of());
        } finally {
            published = new Snapshot(state, remoteNode, closed);
            lock.unlock();
        }
        boolean quiet;
        try {
            quiet = awaitOnNotifyThread(this::quiet, deadline, "the pending events");
        } catch (RuntimeException e) {
            resume();
            throw e;
        }
        if (!quiet) {
            resume();
            throw new IllegalStateException(this + ": beginHandover gave up: events raised before it were not "
                    + "delivered " + within(timeoutMs) + "; the engine goes on");
        }
        LOG.debug("{}: handover begun in state {}", this, handover.state());
        return handover;
    }

    private static String within(long timeoutMs) {
        return Thread.currentThread().isInterrupted() ? "before the wait was interrupted"
                : "within the handover timeout of " + timeoutMs + " ms";
    }

    /** Refusals of beginHandover that need no waiting. The closed flag is read under the lock when it is held. */
    private void checkCanHandOver() {
        Phase p = phase.get();
        if (p != Phase.ACTIVE) {
            throw refusedHandover(p);
        }
        if (lock.isHeldByCurrentThread() ? closed : published.closed()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private IllegalStateException refusedHandover(Phase p) {
        return new IllegalStateException(this + ": a handover has already begun (phase " + p + ")");
    }

    /** No event pending and no deferred command waiting; read on the notification thread. */
    private boolean quiet() {
        return events.isEmpty() && !drainScheduled.get() && deferred.get() == 0;
    }

    /**
     * The successor has taken over: HANDED_OVER for good; the counters go into the strategy's totals. No event
     * follows (beginHandover delivered them all).
     *
     * @throws IllegalStateException when no handover has begun or it is already complete
     */
    @Override
    public void completeHandover() {
        if (!phase.compareAndSet(Phase.HANDING_OVER, Phase.HANDED_OVER)) {
            throw new IllegalStateException(this + ": no handover to complete (phase " + phase.get() + ")");
        }
        LOG.debug("{}: handed over", this);
        retire();
    }

    /**
     * No successor could be made: ACTIVE again, and, if the captured state was CONNECTING, dials the handshake that
     * beginHandover abandoned. A later beginHandover may try again.
     *
     * @throws IllegalStateException when no handover has begun or it is complete
     */
    @Override
    public void abortHandover() {
        resume();
        LOG.debug("{}: handover aborted", this);
    }

    /** HANDING_OVER back to ACTIVE, and a new handshake if CONNECTING (see {@link #abortHandover()}). */
    private void resume() {
        if (!phase.compareAndSet(Phase.HANDING_OVER, Phase.ACTIVE)) {
            throw new IllegalStateException(this + ": no handover to abort (phase " + phase.get() + ")");
        }
        // A command, so that a lock timeout defers it and the commands the manager releases next queue behind it.
        command("redial after an aborted handover", out -> {
            if (closed || state != CONNECTING || phase.get() != Phase.ACTIVE) {
                return null;
            }
            long gen = ++generation;
            return () -> startHandshake(gen);
        });
    }

    /**
     * Takes over a predecessor's state. Called once by the strategy before the engine is registered or given to
     * anyone, so no other thread can see it yet; raises no event and calls nothing out.
     */
    void restore(Handover h) {
        lock.lock(); // uncontended: no other thread has this engine yet
        try {
            state = h.state();
            if (h.peer().isPresent()) {
                remoteNode = h.peer().get().node();
                remoteDevices.set(h.peer().get().devices());
            }
            lastHeartbeat.set(h.lastHeartbeatNanos());
        } finally {
            published = new Snapshot(state, remoteNode, closed);
            lock.unlock();
        }
    }

    /**
     * Continues after {@link #restore}, once the engine is registered: sends the handed-over frames first, in order
     * (dropped and counted unless CONNECTED), and dials when CONNECTING. Still before the caller has the engine.
     */
    void resumeAdopted(List<DataFrame> queuedFrames) {
        command("adopt", out -> {
            NodeInfo target = !closed && state == CONNECTED ? remoteNode : null;
            long gen = !closed && state == CONNECTING ? ++generation : -1;
            return () -> {
                for (DataFrame f : queuedFrames) {
                    sendNow(target, f);
                }
                if (gen >= 0) {
                    startHandshake(gen);
                }
            };
        });
    }

    /**
     * Runs barrier tasks on the notification thread until {@code condition} holds there, which orders it after every
     * retry and drain queued before. False when the deadline passes or the wait is interrupted (flag set again).
     */
    private boolean awaitOnNotifyThread(BooleanSupplier condition, long deadline, String what) {
        // Quiet here (no event queued, no drain running, no deferred command) means nothing of this engine is queued
        // for the notification thread: the queue, the drain flag and the deferred count all change before the work
        // they stand for is queued and after it is done. Then the barrier would find the condition as it is now, and
        // the common case (an idle engine) needs no round trip to that thread, which every engine of the strategy
        // shares (a thousand moves would queue behind one another there).
        if (quiet() && condition.getAsBoolean()) {
            return true;
        }
        while (true) {
            FutureTask<Boolean> barrier = new FutureTask<>(condition::getAsBoolean);
            try {
                env.notifyExecutor().execute(barrier);
            } catch (RejectedExecutionException e) {
                // The strategy is stopping: its queued tasks still run, but we cannot queue behind them.
                return condition.getAsBoolean();
            }
            try {
                if (barrier.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    return true;
                }
            } catch (TimeoutException e) {
                barrier.cancel(false);
                handoverTimedOut(what);
                return false;
            } catch (InterruptedException e) {
                barrier.cancel(false);
                Thread.currentThread().interrupt();
                LOG.warn("{}: interrupted while beginHandover waited for {}; the handover is refused", this, what);
                return false;
            } catch (ExecutionException e) {
                throw new IllegalStateException("handover barrier failed", e.getCause());
            }
            if (System.nanoTime() - deadline >= 0) {
                handoverTimedOut(what);
                return false;
            }
        }
    }

    /** Counts a stall and logs, at WARN, what the notification thread is doing instead (nothing is lost). */
    private void handoverTimedOut(String what) {
        handoverTimeouts.increment();
        Thread notify = env.notifyThread().get();
        LOG.warn("{}: beginHandover waited {} ms in vain for {}; the handover is refused and the engine goes on. "
                + "The notification thread {}{}", this, env.handoverTimeoutMillis().getAsLong(), what,
                notify == null ? "(none)" : "\"" + notify.getName() + "\" is at:", stackOf(notify));
    }

    /** The thread's stack, one "at" line per frame, for a log line; empty for null. */
    private static String stackOf(Thread thread) {
        StringBuilder stack = new StringBuilder();
        if (thread != null) {
            for (StackTraceElement e : thread.getStackTrace()) {
                stack.append("\n\tat ").append(e);
            }
        }
        return stack.toString();
    }

    // ---- state machine (lock held) -------------------------------------------------------------------------------

    /**
     * Moves to {@code to} and records the event; the same state twice is a no-op. Caller holds the lock.
     *
     * @throws IllegalStateException for a transition ConnectionState does not allow (a bug in this class)
     */
    private void setState(ConnectionState to, List<EngineEvent> out) {
        assert lock.isHeldByCurrentThread() : "setState needs the connection lock";
        ConnectionState from = state;
        if (from == to) {
            return;
        }
        if (!from.canChangeTo(to)) {
            throw new IllegalStateException("illegal connection state change " + from + " -> " + to);
        }
        state = to;
        out.add(new StateEvent(from, to));
        LOG.debug("{}: {} -> {}", this, from, to);
    }

    /** Stores the peer's node and devices and enters CONNECTED. Caller holds the lock. */
    private boolean applyHandshake(Handshake peer, List<EngineEvent> out) {
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

    /** Caller holds the lock. A disconnect, goodbye, close, handover or newer handshake since {@code gen} wins. */
    private boolean isCurrentHandshake(long gen) {
        return !closed && gen == generation && state == CONNECTING && phase.get() == Phase.ACTIVE;
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

    /** Up to {@value #MAX_COMMAND_ATTEMPTS} bounded waits, for beginHandover, which cannot be deferred. */
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
     * {@value #TIMEOUT_LOG_INTERVAL_MS} ms per engine, saying how many were not logged in between (under overload
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
        String stack = stackOf(owner);
        LOG.warn("{}: {} waited {} ms for the connection lock, held by {} ({} more timeouts not logged since the "
                + "last report){}", this, operation, timeoutMs,
                owner == null ? "(nobody by now)" : "\"" + owner.getName() + "\"", skipped, stack);
    }

    /** Refuses a command unless ACTIVE (the manager sends none during or after a handover). */
    private void requireActive(String command) {
        Phase p = phase.get();
        if (p != Phase.ACTIVE) {
            throw refused(command, p);
        }
    }

    private IllegalStateException refused(String command, Phase p) {
        return new IllegalStateException(this + ": " + command + " refused in phase " + p
                + " (no command may reach an engine during or after its handover)");
    }

    /**
     * A command from outside: refused unless ACTIVE (checked at once, and again under the lock, where the refusal
     * changes nothing), else run by {@link #command}.
     */
    private void publicCommand(String name, Command body) {
        requireActive(name);
        command(name, out -> {
            requireActive(name);
            return body.apply(out);
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
        List<EngineEvent> out = new ArrayList<>(2);
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
            for (EngineEvent e : out) {
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
            if (phase.get() != Phase.ACTIVE) {
                // Only an internal result can be deferred past beginHandover's wait; it would be ignored anyway.
                LOG.debug("{}: {} dropped after the handover began: the connection lock stayed busy", this, name);
                return;
            }
            errors.increment();
            LOG.error("{}: {} dropped: the connection lock stayed busy", this, name);
            events.add(new ErrorEvent(name + " dropped: the connection lock stayed busy"));
            scheduleDrain();
        } catch (RuntimeException e) {
            // A refused command (a manager bug) or a bug in a body: the notification thread goes on.
            droppedCommands.increment();
            LOG.error("{}: deferred {} failed", this, name, e);
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
            EngineEvent e;
            while ((e = events.poll()) != null) {
                dispatch(e);
            }
            drainScheduled.set(false);
        } while (!events.isEmpty() && drainScheduled.compareAndSet(false, true));
    }

    private void dispatch(EngineEvent event) {
        try {
            event.deliverTo(sink);
        } catch (Throwable t) {
            listenerErrors.increment();
            LOG.error("{}: the events sink failed on {}", this, event, t);
        } finally {
            callbacksDispatched.increment();
        }
    }
}
