package org.midimesh.connection.seda.internal;

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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

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
import org.midimesh.connection.seda.internal.Command.Adopted;
import org.midimesh.connection.seda.internal.Command.Barrier;
import org.midimesh.connection.seda.internal.Command.HandshakeCompleted;
import org.midimesh.connection.seda.internal.Command.HandshakeResult;
import org.midimesh.connection.seda.internal.Command.Inspect;
import org.midimesh.connection.seda.internal.Command.Send;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seda engine of one connection: its mutable state has a single owner (workplan Approach B). Thread-safe: any
 * thread may call any method; the state itself is touched only by the current owner of the engine's
 * {@link SerialExecutor mailbox}: a thread of the strategy's worker stage, or a caller of {@link #send} that found the
 * mailbox idle and runs its own send (the hot path). Nothing in it is guarded by a mutex.
 *
 * <h2>Commands</h2>
 * {@link #connect}, {@link #disconnect}, {@link #handshakeCompleted}, {@link #goodbyeReceived},
 * {@link #notifyHeartbeat}, {@link #checkHeartbeat}, {@link #send} and {@link #close} queue a {@link Command} and
 * return at once; the worker runs them one at a time, in the order they were queued. The one exception is the hot path
 * of {@code send}: with nothing queued and nothing running, the caller owns the mailbox for that one send and runs it
 * itself (see {@link #send}). The blocking HTTP handshake runs on the handshake executor and posts its result back as a
 * command. {@code send} is the only data command and is bounded by the queue capacity (a full queue: {@code false},
 * counted as dropped). Control commands are never refused for a full queue, so none is lost to MIDI; the ones a peer or
 * monitor repeats at will are coalesced ({@code notifyHeartbeat} and {@code checkHeartbeat}: at most one of each
 * queued), which keeps the queue bounded in practice. Worker queries ({@link #inspectAsync()}) may use a reserve of
 * another {@code capacity} slots.
 *
 * <h2>Queries</h2>
 * {@link #getState}, {@link #getRemoteId}, {@link #getRemoteNode}, {@link #getRemoteDevices} and
 * {@link #getTimeSinceLastHeartbeat} never wait on the worker: they read immutable snapshots the worker publishes
 * through volatile fields. The rare query that needs several fields of one moment goes through the worker,
 * {@link #inspectAsync()} / {@link #inspect()}: a future the worker completes with an immutable record. A timed-out
 * wait completes the future exceptionally first, so a late answer is discarded and nobody reads a result that is being
 * written or has been released (the original's query use-after-free cannot happen).
 *
 * <h2>Events</h2>
 * The worker never calls the {@link EngineEvents} given at creation: it hands each command's events to the strategy's
 * notification thread, which delivers them in order. The receiver may query or command this engine: the worker is not
 * waiting for it.
 *
 * <h2>Lifecycle</h2>
 * One atomic field, changed by CAS:
 * <ul>
 * <li>OPEN: commands run. {@link #close} makes it CLOSED: the worker runs what was queued before, enters DISCONNECTED
 * (one event) and rejects what follows; a later {@code send} returns false (a dropped message), every other command
 * is counted as an error and reported by an {@code error} event. Nothing throws.</li>
 * <li>HANDING_OVER from {@link #beginHandover}: the strategy manager holds every command back, so none may arrive;
 * one that does is a manager bug and throws {@link IllegalStateException}. Back to OPEN if the worker cannot reach the
 * handover barrier in time, or by {@link #abortHandover}.</li>
 * <li>HANDED_OVER from {@link #completeHandover}, for good: the engine is retired and raises no event; a command
 * throws {@link IllegalStateException}.</li>
 * </ul>
 * Queries and {@link #metrics()} answer in every state (after a handover: the state as it was handed over).
 */
public final class SedaConnectionEngine implements ConnectionEngine {

    /** {@code lastHeartbeat} value before the first heartbeat or handshake (as in {@link Handover}). */
    static final long NEVER = Long.MIN_VALUE;

    private static final Logger LOG = LoggerFactory.getLogger(SedaConnectionEngine.class);

    private static final int OPEN = 0;
    private static final int HANDING_OVER = 1;
    private static final int HANDED_OVER = 2;
    private static final int CLOSED = 3;
    private static final String[] LIFECYCLE = {"OPEN", "HANDING_OVER", "HANDED_OVER", "CLOSED"};

    /**
     * What an engine uses from its strategy.
     *
     * @param workers        the worker stage every mailbox drains on
     * @param handshakes     runs the blocking outbound handshakes
     * @param notifier       the notification stage (one thread): every event delivery
     * @param isNotifyThread tells whether a thread is the notification thread
     * @param queryTimeoutMs bound of waits on the worker (inspect, handover) and on the notification stage (handover)
     * @param sendOnCaller   whether a send that finds the mailbox idle runs on the caller's thread (read per send)
     * @param latency        the strategy-wide latency histogram
     * @param onRetired      told once when the engine is closed or handed over (counters fold into totals)
     */
    record Stages(Executor workers, Executor handshakes, Executor notifier, Predicate<Thread> isNotifyThread,
            LongSupplier queryTimeoutMs, BooleanSupplier sendOnCaller, AtomicHistogram latency,
            Consumer<SedaConnectionEngine> onRetired) {
    }

    /** What queries see of the peer; replaced whole by the worker. Optionals are made once, not per query. */
    private record Peer(Optional<NodeInfo> node, Optional<NodeId> id, List<DeviceInfo> devices) {
        static final Peer UNKNOWN = new Peer(Optional.empty(), Optional.empty(), List.of());

        Peer(NodeInfo node, List<DeviceInfo> devices) {
            this(Optional.of(node), Optional.of(node.id()), List.copyOf(devices));
        }
    }


    private final ConnectionContext context;
    private final EngineEvents listener;
    private final Stages stages;
    private final String peerAddress;
    private final SerialExecutor<Command> mailbox;
    private final QueryMeter meter;

    // ---- worker-owned: read and written only by the mailbox owner. The token hand-off between owners
    // ---- (SerialExecutor) orders every write of one owner before the reads of the next; no field needs more.
    private ConnectionState state;
    private NodeInfo remoteNode;
    private List<DeviceInfo> devices;
    private long lastHeartbeat;
    private long generation;
    private long handshakeGeneration;
    private CompletableFuture<Void> handshakeDone;
    private boolean closed;
    // Frames collected while a handover barrier is pending (they become Handover.queuedFrames); flushed before any
    // other command runs.
    private final ArrayList<DataFrame> heldFrames = new ArrayList<>();
    private List<EngineEvent> events = new ArrayList<>(2);

    // ---- published by the worker for lock-free readers. Each is written only by the mailbox owner, after the
    // ---- worker-owned field it mirrors; a volatile read by any thread sees a complete, immutable value.
    // The state. Written after publishedPeer on a handshake, so a reader that sees CONNECTED sees that peer.
    private volatile ConnectionState publishedState;
    // Node and devices of one handshake together (immutable record): never a half-written list or a mixed pair.
    private volatile Peer publishedPeer;
    // System.nanoTime() of the last heartbeat or handshake, NEVER before. Publishes only its own value.
    private volatile long publishedHeartbeat;
    // Non-null while an outbound handshake is in flight; completed by the worker once its result has been applied.
    // beginHandover reads it to let the handshake finish first.
    private volatile CompletableFuture<Void> publishedHandshake;

    // OPEN, HANDING_OVER, HANDED_OVER or CLOSED, changed by CAS (see class comment). Callers read it on every command
    // to choose the path (run, reject after close, or throw while a handover has the engine). Orders nothing else.
    private final AtomicInteger lifecycle = new AtomicInteger(OPEN);
    // The barrier of the latest beginHandover, or null. Written by beginHandover before it queues the barrier and
    // cleared by abortHandover; read by the worker on every send: while its phase is PENDING, frames are held for the
    // successor instead of sent. The barrier's own phase (an atomic) says when that ends; this field publishes only the
    // reference.
    private volatile Barrier handoverBarrier;
    // State-changing commands queued and not yet run (connect, disconnect, handshakes and their results, goodbye,
    // heartbeat checks, close, adoption). Incremented by whoever queues one, before queueing; decremented by the owner
    // after running it, after publishing its effect. send() reads it before publishedState: if it reads 0, every
    // such command queued before has run and published, so the state it reads next is at least that new.
    private final AtomicInteger pendingControl = new AtomicInteger();
    // The latest heartbeat arrival (System.nanoTime()) not yet taken by the worker; moved forward by callers
    // (accumulateAndGet, newest wins), read by the worker after it cleared heartbeatPending, so an arrival is either
    // seen by that read or queues a new notification. Publishes only its own value.
    private final AtomicLong heartbeatArrival = new AtomicLong(NEVER);
    // true while a coalesced heartbeat notification is queued and not yet started: CAS false->true by the caller that
    // queues it, set(false) by the worker when it starts it. Orders nothing else.
    private final AtomicBoolean heartbeatPending = new AtomicBoolean();
    // true once a control backlog beyond twice the capacity has been logged (and counted as a stall); reset by the
    // worker when the queue is back under its capacity. Only decides whether to log and count.
    private final AtomicBoolean backlogReported = new AtomicBoolean();
    // true while a checkHeartbeat command is queued and not yet started: CAS false->true by the caller that queues
    // one; set(false) by the worker when it starts it. Orders nothing else.
    private final AtomicBoolean checkPending = new AtomicBoolean();
    // true once a full queue has been logged (and counted as a stall); CAS by the caller that logs, reset by the worker
    // when the queue has half drained. Only decides whether to log and count.
    private final AtomicBoolean fullReported = new AtomicBoolean();
    // true once a command rejected after close has been logged at WARN. Only decides the log level.
    private final AtomicBoolean rejectionReported = new AtomicBoolean();
    // Completed by the worker when it has run close (state DISCONNECTED, events posted). Deactivation waits on it.
    private final CompletableFuture<Void> closedFuture = new CompletableFuture<>();

    // Commands run by the worker. Single writer (the owner, lazySet: an ordered store, no fence); read by metrics,
    // which may see a value a few commands old.
    private final AtomicLong processed = new AtomicLong();
    // Counters only: written from any thread, each read on its own; they order nothing else.
    private final LongAdder callbacks = new LongAdder();
    // EngineEvent batches handed to the notification stage and not yet delivered: incremented by the poster before it
    // queues one, decremented after delivering it. beginHandover reads 0 as "nothing of ours is queued there" (the
    // increment comes before the queueing, so a batch on its way is never missed), which spares the fence.
    private final AtomicInteger undelivered = new AtomicInteger();
    private final LongAdder errors = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder sendErrors = new LongAdder();
    private final LongAdder listenerErrors = new LongAdder();
    private final LongAdder commandFailures = new LongAdder();
    // Waits or queues that ran past their bound (see metrics()).
    private final LongAdder stalls = new LongAdder();

    /**
     * A new DISCONNECTED engine, or (with {@code from}) one continuing another engine's handover.
     *
     * @param events   where this engine reports, for its whole life
     * @param capacity MIDI frames the queue holds (the control reserve is as large again)
     */
    SedaConnectionEngine(ConnectionContext context, EngineEvents events, Stages stages, int capacity, Handover from) {
        this.context = Objects.requireNonNull(context, "context");
        this.listener = Objects.requireNonNull(events, "events");
        this.stages = Objects.requireNonNull(stages, "stages");
        this.peerAddress = context.host() + ":" + context.httpPort();
        this.meter = new QueryMeter(stages.latency());
        this.mailbox = new SerialExecutor<>(peerAddress, stages.workers(), capacity, capacity, this::handle,
                this::commandFailed);
        if (from == null) {
            state = DISCONNECTED;
            devices = List.of();
            lastHeartbeat = NEVER;
            publishedPeer = Peer.UNKNOWN;
        } else {
            state = from.state();
            remoteNode = from.peer().map(Handshake::node).orElse(null);
            devices = from.peer().map(Handshake::devices).orElse(List.of());
            lastHeartbeat = from.lastHeartbeatNanos();
            publishedPeer = remoteNode == null ? Peer.UNKNOWN : new Peer(remoteNode, devices);
        }
        publishedState = state;
        publishedHeartbeat = lastHeartbeat;
        if (from != null) {
            // The first command of the successor: the predecessor's frames go out before anything queued later.
            pendingControl.incrementAndGet();
            mailbox.offerAlways(new Adopted(from.queuedFrames(), state == CONNECTING));
        }
    }

    // ==== commands (any thread) =====================================================================================

    @Override
    public void connect() {
        accept("connect");
        control(Command.CONNECT);
    }

    @Override
    public void disconnect() {
        accept("disconnect");
        control(Command.DISCONNECT);
    }

    @Override
    public void handshakeCompleted(Handshake peer) {
        Objects.requireNonNull(peer, "peer");
        accept("handshakeCompleted");
        control(new HandshakeCompleted(peer));
    }

    @Override
    public void goodbyeReceived() {
        accept("goodbyeReceived");
        control(Command.GOODBYE);
    }

    /** Posts the arrival time; while one notification is still queued, later ones only move its time forward. */
    @Override
    public void notifyHeartbeat() {
        long now = System.nanoTime();
        if (accept("notifyHeartbeat") == CLOSED) {
            control(Command.HEARTBEAT); // rejected, visibly, every time: never coalesced
            return;
        }
        heartbeatArrival.accumulateAndGet(now, (last, t) -> last == NEVER || t - last > 0 ? t : last);
        if (heartbeatPending.compareAndSet(false, true)) {
            control(Command.HEARTBEAT);
        }
    }

    /** B.3: posts a check command; while one is still queued, further calls are folded into it. */
    @Override
    public void checkHeartbeat() {
        if (accept("checkHeartbeat") == CLOSED) {
            control(Command.CHECK_HEARTBEAT); // rejected, visibly, every time: never coalesced
            return;
        }
        if (checkPending.compareAndSet(false, true)) {
            control(Command.CHECK_HEARTBEAT);
        }
    }

    /**
     * Sends MIDI to the peer, or queues it. Never waits for the worker or for another command.
     * <p>The hot path ({@code send.on.caller}, on by default): when the mailbox is idle (nothing queued, no command
     * running) the caller takes the mailbox's token and runs the send itself, now, as the worker would have (same
     * code, same single owner, same order); it returns once the link has the datagram, as with mutex. Otherwise, and
     * always with {@code send.on.caller} off, the frame queues for the worker and the call returns at once.
     *
     * @return true when sent or queued; false (counted as dropped) when closed, when the queue holds
     *         {@code queue.capacity} frames already, or when not connected and no state-changing command is queued
     *         before it. A queued frame goes out in its turn if the engine is CONNECTED then, else it is counted as
     *         dropped: so {@code handshakeCompleted(h); send(f)} from one thread sends {@code f}, as the order of
     *         commands says.
     * @throws IllegalStateException while a handover has the engine (the manager holds commands back)
     */
    @Override
    public boolean send(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        int l = accept("send");
        // pendingControl first, then the state: see the field comment.
        if (l == CLOSED || (pendingControl.get() == 0 && publishedState != CONNECTED)) {
            dropped.increment();
            return false;
        }
        Send s = new Send(frame);
        if (stages.sendOnCaller().getAsBoolean() ? mailbox.offerOrRun(s) : mailbox.offer(s)) {
            return true;
        }
        dropped.increment();
        if (fullReported.compareAndSet(false, true)) {
            stalls.increment();
            LOG.warn("{}: command queue full ({} waiting); dropping MIDI until it drains", this, mailbox.depth());
        }
        return false;
    }

    /**
     * Ends the engine for good: the worker runs the commands queued before, then enters DISCONNECTED (one event if it
     * was not already) and rejects everything later. Idempotent.
     *
     * @throws IllegalStateException while a handover has the engine, or after it was handed over
     */
    @Override
    public void close() {
        while (!closeIfOpen()) {
            if (accept("close") == CLOSED) {
                return;
            }
        }
    }

    /** Closes the engine if it is OPEN (CAS, so a concurrent beginHandover and this never both win); else false. */
    private boolean closeIfOpen() {
        if (!lifecycle.compareAndSet(OPEN, CLOSED)) {
            return false;
        }
        pendingControl.incrementAndGet();
        mailbox.offerAlways(Command.CLOSE);
        return true;
    }

    /**
     * Admits an external command: returns the lifecycle it was read in (OPEN or CLOSED).
     *
     * @throws IllegalStateException while HANDING_OVER or HANDED_OVER: the strategy manager must hold every command
     *                               back from then on, so one arriving here is its bug and is refused loudly
     */
    private int accept(String command) {
        int l = lifecycle.get();
        if (l == HANDING_OVER || l == HANDED_OVER) {
            throw new IllegalStateException(this + ": " + command + " while " + LIFECYCLE[l]
                    + " (the strategy manager holds commands back during a handover)");
        }
        return l;
    }

    /**
     * Queues a control command. A control command is never refused for a full queue: MIDI cannot crowd it out, and
     * the ones a peer can repeat at will (heartbeats, checks) are coalesced, so only a caller issuing commands faster
     * than the worker runs them makes the queue grow beyond its capacity; that is logged at WARN (and counted as a
     * stall) when it starts and at INFO when it is over. After close the command still goes through the mailbox, so
     * its rejection (and error event) comes after close's DISCONNECTED.
     */
    private void control(Command c) {
        if (changesState(c)) {
            pendingControl.incrementAndGet();
        }
        mailbox.offerAlways(c);
        int depth = mailbox.depth();
        if (depth > 2 * mailbox.capacity() && backlogReported.compareAndSet(false, true)) {
            stalls.increment();
            LOG.warn("{}: {} commands waiting: commands arrive faster than the worker runs them (control commands are "
                    + "never dropped)", this, depth);
        }
    }

    /** Whether {@code c} may change the state, so a send queued behind it must be judged in its turn. */
    private static boolean changesState(Command c) {
        return c == Command.CONNECT || c == Command.DISCONNECT || c == Command.GOODBYE || c == Command.CHECK_HEARTBEAT
                || c == Command.CLOSE || c instanceof HandshakeCompleted || c instanceof HandshakeResult
                || c instanceof Adopted;
    }

    /** The owner has run (or rejected, or discarded) {@code c}: it no longer holds sends back. */
    private void ran(Command c) {
        if (changesState(c)) {
            pendingControl.decrementAndGet();
        }
    }

    /** Mailbox owner: a command after close, counted as rejected (and as an error) and reported by an error event. */
    private void rejectAfterClose(Command c) {
        rejected.increment();
        errors.increment();
        if (rejectionReported.compareAndSet(false, true)) {
            LOG.warn("{}: {} rejected: the connection is closed (later rejections are logged at DEBUG)", this,
                    c.name());
        } else {
            LOG.debug("{}: {} rejected: the connection is closed", this, c.name());
        }
        post(List.of(new ErrorEvent(c.name() + " rejected: the connection is closed")));
    }

    // ==== queries (any thread, never waiting on the worker) =========================================================

    /** One volatile read (plus the query count). */
    @Override
    public ConnectionState getState() {
        long t0 = meter.start();
        ConnectionState s = publishedState;
        meter.end(t0);
        return s;
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        long t0 = meter.start();
        Optional<NodeId> id = publishedPeer.id();
        meter.end(t0);
        return id;
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        long t0 = meter.start();
        Optional<NodeInfo> node = publishedPeer.node();
        meter.end(t0);
        return node;
    }

    /** The immutable list of the last handshake: one volatile read, never a half-written list. */
    @Override
    public List<DeviceInfo> getRemoteDevices() {
        long t0 = meter.start();
        List<DeviceInfo> list = publishedPeer.devices();
        meter.end(t0);
        return list;
    }

    /** From the monotonic clock; {@code Long.MAX_VALUE} before the first heartbeat or handshake. */
    @Override
    public long getTimeSinceLastHeartbeat() {
        long t0 = meter.start();
        long last = publishedHeartbeat;
        long age = last == NEVER ? Long.MAX_VALUE
                : TimeUnit.NANOSECONDS.toMillis(Math.max(0, System.nanoTime() - last));
        meter.end(t0);
        return age;
    }

    /**
     * A query answered by the worker, between two commands: every field of one moment. Completes exceptionally with
     * {@link IllegalStateException} when the engine is closed or handed over (also when the handover completes before
     * the worker got to it; during a handover it waits for the handover's outcome), and with
     * {@link RejectedExecutionException} when the queue's control reserve is used up. Never blocks.
     */
    public CompletableFuture<WorkerSnapshot> inspectAsync() {
        meter.count(); // timed from its enqueue time when the worker answers (onInspect)
        CompletableFuture<WorkerSnapshot> f = new CompletableFuture<>();
        int l = lifecycle.get();
        if (l == CLOSED || l == HANDED_OVER) {
            String what = l == CLOSED ? "closed" : "handed over";
            f.completeExceptionally(new IllegalStateException(this + " is " + what));
        } else if (!mailbox.offerControl(new Inspect(f, System.nanoTime()))) {
            f.completeExceptionally(new RejectedExecutionException(this + ": the command queue is full"));
        }
        return f;
    }

    /**
     * {@link #inspectAsync()}, waiting at most the strategy's query timeout. On timeout the future is completed
     * exceptionally before this method throws, so the worker's late answer is discarded; the timeout counts as a stall.
     *
     * @throws TimeoutException      when the worker did not answer in time
     * @throws InterruptedException  when interrupted while waiting (the flag is cleared, as usual)
     * @throws IllegalStateException when the engine is closed or handed over
     */
    public WorkerSnapshot inspect() throws TimeoutException, InterruptedException {
        CompletableFuture<WorkerSnapshot> f = inspectAsync();
        long timeoutMs = stages.queryTimeoutMs().getAsLong();
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            TimeoutException t = new TimeoutException(this + ": the worker did not answer within " + timeoutMs + " ms");
            if (f.completeExceptionally(t)) {
                stalls.increment();
                throw t;
            }
            return f.join(); // answered in the meantime after all
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * This engine's counters now, in every lifecycle state (after a handover: as they were when it retired). Never
     * blocks, never waits on the worker. {@code stalls} counts the times a bound of this engine ran out: an
     * {@link #inspect()} the worker did not answer in time, a {@link #beginHandover()} whose barrier the worker did not
     * reach in time or whose earlier events were not delivered in time, a control backlog beyond twice the capacity
     * and a MIDI queue found full (each backlog or full-queue episode once, not per command or frame).
     */
    @Override
    public ConnectionMetrics metrics() {
        return new ConnectionMetrics(SedaConnectionStrategy.NAME, meter.queries(), 0, callbacks.sum(), processed.get(),
                mailbox.depth(), meter.latency(), errors.sum(), dropped.sum(), stalls.sum());
    }

    // ==== hot swap ==================================================================================================

    /**
     * Stops the worker at a barrier queued behind every command accepted so far (they run first; MIDI frames that
     * trail the last other command are not sent but handed over, in order). A handshake in flight is given up to the
     * query timeout to finish first; if it has not, its late result is ignored here and the successor dials its own.
     * Waits, each time at most the query timeout, for the worker to reach the barrier and for the notification thread
     * to deliver the events raised before it. The manager calls it only when no command runs or will arrive.
     *
     * @throws IllegalStateException when closed, already handing over or handed over, or when the worker did not reach
     *                               the barrier in time or the caller was interrupted (then nothing changed: the
     *                               engine goes on as before)
     */
    @Override
    public Handover beginHandover() {
        if (!lifecycle.compareAndSet(OPEN, HANDING_OVER)) {
            throw new IllegalStateException(this + " cannot begin a handover: it is " + LIFECYCLE[lifecycle.get()]);
        }
        long timeoutMs = stages.queryTimeoutMs().getAsLong();
        awaitHandshake(timeoutMs);
        Barrier barrier = new Barrier();
        handoverBarrier = barrier; // before the barrier is queued: sends the worker runs from now on are held
        mailbox.offerAlways(barrier);
        Handover handover = awaitBarrier(barrier, timeoutMs);
        fenceNotifications(timeoutMs);
        LOG.debug("{}: handing over in state {} with {} queued frames", this, handover.state(),
                handover.queuedFrames().size());
        return handover;
    }

    /** Gives an outbound handshake in flight up to {@code timeoutMs} to come back first. */
    private void awaitHandshake(long timeoutMs) {
        CompletableFuture<Void> handshake = publishedHandshake;
        if (handshake == null || publishedState != CONNECTING) {
            return;
        }
        try {
            handshake.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.debug("{}: handing over with a handshake still in flight; the successor dials its own", this);
        } catch (InterruptedException e) {
            lifecycle.compareAndSet(HANDING_OVER, OPEN);
            Thread.currentThread().interrupt();
            throw new IllegalStateException(this + ": interrupted while beginning a handover; called off", e);
        }
    }

    /**
     * Waits for the worker to take the barrier. On timeout or interrupt the barrier is cancelled (the worker then skips
     * it and sends what it held) and the engine is OPEN again, unless the worker took it just then.
     */
    private Handover awaitBarrier(Barrier barrier, long timeoutMs) {
        boolean interrupted = false;
        try {
            try {
                return barrier.result.get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | InterruptedException e) {
                if (barrier.phase.compareAndSet(Barrier.PENDING, Barrier.CANCELLED)) {
                    lifecycle.compareAndSet(HANDING_OVER, OPEN);
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(this + ": interrupted while beginning a handover; called off",
                                e);
                    }
                    stalls.increment();
                    throw new IllegalStateException(this + ": handover not started: the worker did not reach it within "
                            + timeoutMs + " ms", e);
                }
                // The worker took the barrier just now and completes it at once (join: no interrupt can lose it).
                interrupted = e instanceof InterruptedException;
                return barrier.result.join();
            }
        } catch (ExecutionException | CompletionException e) {
            lifecycle.compareAndSet(HANDING_OVER, OPEN); // the worker could not build the handover and went on
            throw new IllegalStateException(this + ": handover failed on the worker", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the notification thread has delivered what is queued now (not when we are that thread). */
    private void fenceNotifications(long timeoutMs) {
        if (stages.isNotifyThread().test(Thread.currentThread()) || undelivered.get() == 0) {
            return; // nothing of ours is queued there: no round trip to the thread every engine shares
        }
        CompletableFuture<Void> fence = new CompletableFuture<>();
        try {
            stages.notifier().execute(() -> fence.complete(null));
            fence.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException | ExecutionException e) {
            LOG.debug("{}: notification stage stopped; no events to wait for", this);
        } catch (TimeoutException e) {
            stalls.increment();
            LOG.warn("{}: earlier events still being delivered after {} ms; the successor's may overtake them", this,
                    timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The successor has taken over: discards what is queued behind the barrier (late results of this engine's own
     * handshake; a command there would be a manager bug, logged at ERROR), folds the counters into the strategy's
     * totals, once, and raises no event from now on.
     *
     * @throws IllegalStateException when {@link #beginHandover} has not completed, or the handover already ended
     */
    @Override
    public void completeHandover() {
        if (lifecycle.get() != HANDING_OVER || !mailbox.isHeld()
                || !lifecycle.compareAndSet(HANDING_OVER, HANDED_OVER)) {
            throw new IllegalStateException(this + " has no handover to complete: it is " + LIFECYCLE[lifecycle.get()]);
        }
        mailbox.drainInlineTo(this::discardAfterHandover);
        stages.onRetired().accept(this);
        LOG.debug("{}: handed over", this);
    }

    /**
     * Calls the handover off: the worker runs again, first the frames held for the successor, then what was queued
     * behind the barrier, in order. A handshake in flight at the barrier was never abandoned: its result is taken as
     * usual (if it already came, in its turn), so the engine connects without dialling again.
     *
     * @throws IllegalStateException when {@link #beginHandover} has not completed, or the handover already ended
     */
    @Override
    public void abortHandover() {
        if (!mailbox.isHeld() || !lifecycle.compareAndSet(HANDING_OVER, OPEN)) {
            throw new IllegalStateException(this + " has no handover to call off: it is " + LIFECYCLE[lifecycle.get()]);
        }
        handoverBarrier = null; // TAKEN, so nothing is held any more; the reference would only keep the handover alive
        mailbox.offerAlways(Command.RESUME);
        mailbox.resume();
        LOG.debug("{}: handover called off", this);
    }

    /** Mailbox owner, INLINE mode after completeHandover: whatever was queued behind the barrier, or arrives later. */
    private void discardAfterHandover(Command c) {
        ran(c);
        if (c instanceof HandshakeResult r) {
            LOG.debug("{}: handshake result after the handover ignored ({})", this,
                    r.peer() != null ? "succeeded" : r.failure());
        } else if (c instanceof Inspect q) {
            q.result().completeExceptionally(new IllegalStateException(this + " was handed over"));
        } else if (c instanceof Barrier b) {
            b.result.completeExceptionally(new IllegalStateException(this + " was handed over"));
        } else {
            if (c instanceof Send) {
                dropped.increment();
            }
            LOG.error("{}: {} reached the engine after its handover and was dropped (the strategy manager must hold "
                    + "commands back during a handover)", this, c.name());
        }
    }

    // ==== the worker ================================================================================================

    /** Mailbox owner: runs one command, then hands the events it raised to the notification stage. */
    private void handle(Command c) {
        assert mailbox.isOwner() : SerialExecutor.SINGLE_OWNER_RULE + " (" + c.name() + " on "
                + Thread.currentThread().getName() + ")";
        processed.lazySet(processed.get() + 1);
        if (backlogReported.get() && mailbox.depth() < mailbox.capacity() && backlogReported.compareAndSet(true, false)) {
            LOG.info("{}: command backlog worked off ({} waiting)", this, mailbox.depth());
        }
        try {
            if (c instanceof Send s) {
                onSend(s.frame());
            } else if (c instanceof Barrier b) {
                onBarrier(b);
            } else {
                flushHeldFrames();
                if (c == Command.CONNECT) {
                    onConnect();
                } else if (c == Command.DISCONNECT || c == Command.GOODBYE) {
                    if (!closed) {
                        generation++;
                        setState(DISCONNECTED);
                    }
                } else if (c == Command.CHECK_HEARTBEAT) {
                    onCheckHeartbeat();
                } else if (c == Command.CLOSE) {
                    onClose();
                } else if (c instanceof HandshakeCompleted h) {
                    if (!closed) {
                        applyHandshake(h.peer());
                    }
                } else if (c == Command.HEARTBEAT) {
                    heartbeatPending.set(false);
                    onNotifyHeartbeat(heartbeatArrival.get());
                } else if (c instanceof HandshakeResult r) {
                    onHandshakeResult(r);
                } else if (c instanceof Inspect q) {
                    onInspect(q);
                } else if (c instanceof Adopted a) {
                    onAdopted(a);
                }
            }
        } finally {
            ran(c);
            if (!events.isEmpty()) {
                post(events);
                events = new ArrayList<>(2);
            }
        }
    }

    private void onSend(DataFrame frame) {
        Barrier barrier = handoverBarrier;
        if (barrier != null && barrier.phase.get() == Barrier.PENDING) {
            // Collected, not sent: becomes Handover.queuedFrames unless another command follows it.
            if (!closed && state == CONNECTED && remoteNode != null) {
                heldFrames.add(frame);
            } else {
                dropped.increment();
            }
            return;
        }
        flushHeldFrames();
        sendNow(frame);
        if (fullReported.get() && mailbox.depth() <= mailbox.capacity() / 2 && fullReported.compareAndSet(true, false)) {
            LOG.info("{}: command queue drained ({} waiting); accepting MIDI again", this, mailbox.depth());
        }
    }

    private void sendNow(DataFrame frame) {
        if (closed || state != CONNECTED || remoteNode == null) {
            dropped.increment();
            return;
        }
        try {
            context.link().sendData(remoteNode, frame);
        } catch (RuntimeException e) {
            sendErrors.increment();
            dropped.increment();
            LOG.debug("{}: send failed", this, e);
        }
    }

    /** Frames collected while a handover was starting go out before any other command, so the order holds. */
    private void flushHeldFrames() {
        if (heldFrames.isEmpty()) {
            return;
        }
        for (DataFrame f : heldFrames) {
            sendNow(f);
        }
        heldFrames.clear();
    }

    private void onConnect() {
        if (closed || (state != DISCONNECTED && state != FAILED)) {
            return;
        }
        long gen = ++generation;
        setState(CONNECTING);
        startHandshake(gen);
    }

    private void startHandshake(long gen) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        handshakeGeneration = gen;
        handshakeDone = done;
        publishedHandshake = done;
        try {
            stages.handshakes().execute(() -> runHandshake(gen));
        } catch (RejectedExecutionException e) {
            onHandshakeResult(new HandshakeResult(gen, null, "the seda strategy is stopped"));
        }
    }

    /** On a handshake thread: the blocking HTTP handshake; the outcome goes back to the worker as a command. */
    private void runHandshake(long gen) {
        Handshake peer = null;
        String failure = null;
        try {
            peer = context.handshaker().handshake(context.host(), context.httpPort());
            if (peer == null) {
                failure = "no handshake returned";
            }
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        } catch (IOException e) {
            failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        } catch (RuntimeException e) {
            LOG.error("{}: handshaker threw", this, e);
            failure = e.toString();
        }
        // Internal: queued whatever the lifecycle. Behind a handover barrier it waits for the outcome: discarded when
        // the handover completes, taken in its turn when it is called off.
        pendingControl.incrementAndGet();
        mailbox.offerAlways(new HandshakeResult(gen, peer, failure));
    }

    private void onHandshakeResult(HandshakeResult r) {
        try {
            if (closed || r.generation() != generation || state != CONNECTING) {
                LOG.debug("{}: late handshake result ignored", this);
                return;
            }
            if (r.peer() != null) {
                if (!applyHandshake(r.peer())) {
                    setState(FAILED);
                }
            } else {
                setState(FAILED);
                error("handshake with " + peerAddress + " failed: " + r.failure());
            }
        } finally {
            if (r.generation() == handshakeGeneration && handshakeDone != null) {
                CompletableFuture<Void> done = handshakeDone;
                handshakeDone = null;
                publishedHandshake = null;
                done.complete(null);
            }
        }
    }

    /** Records the peer's node and devices and enters CONNECTED; false (with an error) for another node. */
    private boolean applyHandshake(Handshake peer) {
        NodeInfo node = peer.node();
        if (remoteNode != null && !remoteNode.id().equals(node.id())) {
            String message = "handshake from node " + node.id() + " rejected: this connection belongs to node "
                    + remoteNode.id();
            LOG.warn("{}: {}", this, message);
            error(message);
            return false;
        }
        generation++; // an outbound handshake still in flight is superseded by this one
        List<DeviceInfo> before = devices;
        remoteNode = node;
        devices = peer.devices();
        lastHeartbeat = System.nanoTime();
        publishedHeartbeat = lastHeartbeat;
        publishedPeer = new Peer(node, devices); // before the state: a reader seeing CONNECTED sees this peer
        setState(CONNECTED);
        if (!before.equals(devices)) {
            events.add(new DevicesEvent(devices));
        }
        return true;
    }

    private void onNotifyHeartbeat(long nanos) {
        if (closed || nanos == NEVER) {
            return;
        }
        if (lastHeartbeat == NEVER || nanos - lastHeartbeat > 0) {
            lastHeartbeat = nanos;
            publishedHeartbeat = nanos;
        }
    }

    private void onCheckHeartbeat() {
        checkPending.set(false);
        if (closed || state != CONNECTED) {
            return;
        }
        long silentNanos = lastHeartbeat == NEVER ? Long.MAX_VALUE : System.nanoTime() - lastHeartbeat;
        if (silentNanos > context.heartbeatTimeout().toNanos()) {
            setState(FAILED);
            error(lastHeartbeat == NEVER ? "heartbeat timeout: no heartbeat received"
                    : "heartbeat timeout: no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms");
        }
    }

    private void onClose() {
        if (closed) {
            return;
        }
        closed = true;
        generation++;
        setState(DISCONNECTED);
        if (!events.isEmpty()) { // before the rejections of later commands: they come after the DISCONNECTED
            post(events);
            events = new ArrayList<>(2);
        }
        mailbox.drainInlineTo(this::rejectQueued);
        CompletableFuture<Void> done = handshakeDone;
        if (done != null) {
            handshakeDone = null;
            publishedHandshake = null;
            done.complete(null);
        }
        stages.onRetired().accept(this); // before the future: whoever waits for it sees the strategy's totals updated
        closedFuture.complete(null);
        LOG.debug("{}: closed", this);
    }

    /** Mailbox owner, INLINE mode after close: whatever was queued behind close, or arrives later. */
    private void rejectQueued(Command c) {
        ran(c);
        if (c instanceof Send) {
            dropped.increment();
        } else if (c instanceof Inspect q) {
            q.result().completeExceptionally(new IllegalStateException(this + " is closed"));
        } else if (c instanceof Barrier b) {
            b.result.completeExceptionally(new IllegalStateException(this + " is closed"));
        } else if (c instanceof HandshakeResult || c == Command.CLOSE || c == Command.RESUME) {
            LOG.trace("{}: {} after close ignored", this, c.name());
        } else {
            rejectAfterClose(c);
        }
    }

    private void onInspect(Inspect q) {
        WorkerSnapshot s = new WorkerSnapshot(state, Optional.ofNullable(remoteNode), devices, lastHeartbeat,
                generation, handshakeDone != null, processed.get(), mailbox.depth(), closed);
        if (q.result().complete(s)) {
            meter.record(System.nanoTime() - q.enqueuedNanos());
        }
    }

    private void onAdopted(Adopted a) {
        if (!a.frames().isEmpty()) {
            if (!closed && state == CONNECTED && remoteNode != null) {
                for (DataFrame f : a.frames()) {
                    sendNow(f);
                }
            } else {
                dropped.add(a.frames().size());
                LOG.debug("{}: {} handed-over frames dropped in state {}", this, a.frames().size(), state);
            }
        }
        if (a.redial() && !closed && state == CONNECTING) {
            startHandshake(++generation);
        }
    }

    private void onBarrier(Barrier b) {
        if (!b.phase.compareAndSet(Barrier.PENDING, Barrier.TAKEN)) {
            flushHeldFrames(); // the caller gave up: what was collected goes out now, in order
            return;
        }
        Handover h;
        try {
            Optional<Handshake> peer = remoteNode == null ? Optional.empty()
                    : Optional.of(new Handshake(remoteNode, devices));
            // heldFrames kept (not cleared): the successor sends copies, and this worker never runs again, unless the
            // handover is called off; then the next command flushes them, in order, before it runs.
            h = new Handover(context, state, peer, lastHeartbeat, heldFrames);
        } catch (RuntimeException e) {
            flushHeldFrames(); // no handover: the phase is TAKEN, so later frames are sent, and these go first
            b.result.completeExceptionally(e);
            throw e;
        }
        mailbox.hold();
        b.result.complete(h);
    }

    /**
     * Moves to {@code to} and records the event; the same state twice is a no-op. Worker only.
     *
     * @throws IllegalStateException for a transition {@link ConnectionState} does not allow (a bug in this class)
     */
    private void setState(ConnectionState to) {
        ConnectionState from = state;
        if (from == to) {
            return;
        }
        if (!from.canChangeTo(to)) {
            throw new IllegalStateException("illegal connection state change " + from + " -> " + to);
        }
        state = to;
        publishedState = to;
        events.add(new StateEvent(from, to));
        LOG.debug("{}: {} -> {}", this, from, to);
    }

    private void error(String message) {
        errors.increment();
        events.add(new ErrorEvent(message));
    }

    private void commandFailed(Throwable t) {
        commandFailures.increment();
        LOG.error("{}: a command failed; the worker goes on with the next one", this, t);
    }

    // ==== the notification stage ====================================================================================

    /** Hands events to the notification thread. Mailbox owner (the order of posts is the order of events). */
    private void post(List<EngineEvent> raised) {
        undelivered.incrementAndGet();
        try {
            stages.notifier().execute(() -> {
                try {
                    deliver(raised);
                } finally {
                    undelivered.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            undelivered.decrementAndGet();
            LOG.debug("{}: {} events not delivered, the strategy is stopped", this, raised.size());
        }
    }

    /** On the notification thread: one call per event; a receiver that throws is counted and logged, and we go on. */
    private void deliver(List<EngineEvent> raised) {
        for (EngineEvent event : raised) {
            try {
                event.deliverTo(listener);
            } catch (Throwable t) {
                listenerErrors.increment();
                LOG.error("{}: the event receiver failed on {}", this, event, t);
            } finally {
                callbacks.increment();
            }
        }
    }

    // ==== for the strategy and tests ================================================================================

    /**
     * For the strategy's deactivation: closes the engine if it is OPEN. True when it is closing or closed now (wait
     * on {@link #closedFuture()}); false when a handover has it, which is then left to the swap.
     */
    boolean closeUnlessHandingOver() {
        for (;;) {
            if (closeIfOpen()) {
                return true;
            }
            int l = lifecycle.get();
            if (l == CLOSED) {
                return true;
            }
            if (l != OPEN) {
                return false;
            }
        }
    }

    /** Completes when the worker has run close. */
    CompletableFuture<Void> closedFuture() {
        return closedFuture;
    }

    boolean isOpen() {
        return lifecycle.get() == OPEN;
    }

    boolean isHandingOver() {
        return lifecycle.get() == HANDING_OVER;
    }

    SerialExecutor<Command> mailbox() {
        return mailbox;
    }

    long rejectedCommands() {
        return rejected.sum();
    }

    long listenerErrors() {
        return listenerErrors.sum();
    }

    long commandFailures() {
        return commandFailures.sum();
    }

    @Override
    public String toString() {
        return "seda engine for " + peerAddress + publishedPeer.id().map(id -> " (" + id + ")").orElse("");
    }
}
