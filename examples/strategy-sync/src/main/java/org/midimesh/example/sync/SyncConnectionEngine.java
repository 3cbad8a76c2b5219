package org.midimesh.example.sync;

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
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine of one connection in the sync strategy. Thread-safe: any thread may call it; it is owned by whoever
 * created it (the strategy manager), and its strategy's two threads work for it.
 *
 * <h2>One lock</h2>
 * One {@link ReentrantLock} guards everything that changes: the connection state, the peer's node and devices, the
 * time of the last heartbeat, the handshake generation and the {@link Phase}. Three kinds of callers take it:
 * <ul>
 * <li><b>Commands</b> ({@code connect}, {@code disconnect}, ..., and the results of this engine's own handshakes) run
 * their whole change under the lock and collect the events it raises. After unlocking they hand the events to the
 * strategy's event thread, and only then do anything that calls out (start a handshake). A command is never dropped:
 * it waits for the lock in rounds of {@code lock.timeout.ms}, each timeout counted as a stall and logged with the
 * holder's stack. The lock is held for a few field accesses only, so a timeout means a bug (or the test fixture).</li>
 * <li><b>Queries</b> ({@code getState}, ...) try the lock without waiting first; when it is taken they count a
 * contention and wait for it, bounded by {@code lock.timeout.ms}. When that runs out they count a stall and answer
 * from {@link #published}, the snapshot every change writes before it unlocks: the state as of the last change.</li>
 * <li><b>{@link #send}</b> reads the target under the lock and gives the frame to the {@code PeerLink} after
 * unlocking. So sends are synchronous, and a handover never has queued frames.</li>
 * </ul>
 * A bounded wait retries and yields rather than queueing in the lock, and queries give way to a waiting change
 * ({@link #acquire}). Nothing is ever called while the lock is held: no event, no handshake, no peer send, no call
 * into the strategy.
 *
 * <h2>Events</h2>
 * A change appends its events to {@link #pending} while it holds the lock, so the queue is in the order of the
 * changes. After unlocking it asks the event thread to deliver the queue; that single thread calls the
 * {@link EngineEvents} one event at a time, in queue order, never under a lock.
 *
 * <h2>Handshake</h2>
 * {@code connect()} moves to CONNECTING and runs the blocking handshake on the strategy's connect thread. Its result
 * comes back as a command that applies only if the {@link #generation} is still the one the handshake started with:
 * every disconnect, goodbye, close, inbound handshake and handover moves the generation on, so it wins over a late
 * result.
 *
 * <h2>Handover</h2>
 * {@link #beginHandover()} moves the phase to HANDING_OVER and captures the state under the lock (moving the
 * generation on abandons a handshake in flight; a successor given CONNECTING dials its own), then waits, bounded by
 * {@code handover.timeout.ms}, for a barrier task on the event thread: every event raised before has been delivered
 * once it ran. From HANDING_OVER on every command throws {@link IllegalStateException}: the manager never sends one, so
 * one arriving is a bug to make loud. Queries answer at any time.
 */
final class SyncConnectionEngine implements ConnectionEngine {

    /** {@link #lastHeartbeatNanos} before the first heartbeat; the same sentinel as {@link Handover}'s. */
    static final long NEVER = Long.MIN_VALUE;

    private static final Logger LOG = LoggerFactory.getLogger(SyncConnectionEngine.class);

    /** Where the engine stands in its life. Changed under the lock only. */
    enum Phase {
        /** Runs commands. */
        ACTIVE,
        /** Between beginHandover and completeHandover or abortHandover: commands throw, the state is frozen. */
        HANDING_OVER,
        /** Its successor took over: commands throw for good, queries answer with the state handed over. */
        HANDED_OVER,
        /** Closed: commands are ignored (send returns false), queries answer with the last state. */
        CLOSED
    }

    /** What queries fall back to when the lock stays busy. Immutable. */
    private record Snapshot(ConnectionState state, NodeInfo remoteNode, List<DeviceInfo> devices,
            long lastHeartbeatNanos, Phase phase) {
    }

    /** One event for the {@link EngineEvents}, described for the log. */
    private record Event(String what, Consumer<EngineEvents> call) {
    }

    /** The body of a change: runs under the lock, adds its events, returns what to run after unlocking (or null). */
    @FunctionalInterface
    private interface Change {
        Runnable apply(List<Event> out);
    }

    /** A ReentrantLock that names its holder, for the timeout log. */
    static final class OwnedLock extends ReentrantLock {
        Thread owner() {
            return getOwner();
        }
    }

    private final SyncConnectionStrategy strategy;
    private final ConnectionContext context;
    private final EngineEvents events;
    private final String peerAddress;
    private final OwnedLock lock = new OwnedLock();

    // ---- guarded by lock ----
    private ConnectionState state = DISCONNECTED;
    private NodeInfo remoteNode;
    private List<DeviceInfo> devices = List.of();
    private long lastHeartbeatNanos = NEVER;
    private long generation;
    private Phase phase = Phase.ACTIVE;

    // Written under the lock at the end of every change; read without it by queries whose lock wait ran out, and by
    // toString. The volatile write publishes the immutable record, so a reader sees the fields of one and the same
    // change, never a mix.
    private volatile Snapshot published;

    // Events in the order of the changes that raised them: appended under the lock, polled by the event thread only.
    // The queue's own ordering publishes each event (and what it captured) to the event thread.
    private final ConcurrentLinkedQueue<Event> pending = new ConcurrentLinkedQueue<>();

    // Changes (commands, sends, handshake results) waiting for the lock: incremented and decremented by each around
    // its wait. Queries read it and give way while it is above 0. A plain count: it orders nothing else.
    private final AtomicInteger changesWaiting = new AtomicInteger();

    // Counters: each is read on its own and orders nothing else.
    private final LongAdder queries = new LongAdder();
    private final LongAdder contentions = new LongAdder();
    private final LongAdder callbacks = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder stalls = new LongAdder();
    private final LatencySamples latency = new LatencySamples();

    /** A DISCONNECTED engine, or, given a handover, one in the handed-over state (raising no event for it). */
    SyncConnectionEngine(SyncConnectionStrategy strategy, ConnectionContext context, EngineEvents events,
            Handover from) {
        this.strategy = strategy;
        this.context = Objects.requireNonNull(context, "context");
        this.events = Objects.requireNonNull(events, "events");
        this.peerAddress = context.host() + ":" + context.httpPort();
        lock.lock(); // uncontended: nobody else has this engine yet
        try {
            if (from != null) {
                state = from.state();
                from.peer().ifPresent(p -> {
                    remoteNode = p.node();
                    devices = p.devices();
                });
                lastHeartbeatNanos = from.lastHeartbeatNanos();
            }
            published = snapshot();
        } finally {
            lock.unlock();
        }
    }

    // ==== commands ===================================================================================================

    @Override
    public void connect() {
        command("connect", out -> {
            if (state != DISCONNECTED && state != FAILED) {
                return null; // already connecting or connected
            }
            long gen = ++generation;
            setState(CONNECTING, out);
            return () -> dial(gen);
        });
    }

    @Override
    public void disconnect() {
        command("disconnect", out -> {
            generation++;
            setState(DISCONNECTED, out);
            return null;
        });
    }

    @Override
    public void handshakeCompleted(Handshake peer) {
        Objects.requireNonNull(peer, "peer");
        command("handshakeCompleted", out -> {
            applyHandshake(peer, out);
            return null;
        });
    }

    @Override
    public void goodbyeReceived() {
        command("goodbyeReceived", out -> {
            generation++;
            setState(DISCONNECTED, out);
            return null;
        });
    }

    @Override
    public void notifyHeartbeat() {
        command("notifyHeartbeat", out -> {
            lastHeartbeatNanos = System.nanoTime();
            return null;
        });
    }

    @Override
    public void checkHeartbeat() {
        command("checkHeartbeat", out -> {
            if (state != CONNECTED) {
                return null;
            }
            long silentNanos = lastHeartbeatNanos == NEVER ? Long.MAX_VALUE : System.nanoTime() - lastHeartbeatNanos;
            if (silentNanos > context.heartbeatTimeout().toNanos()) {
                setState(FAILED, out);
                error(out, lastHeartbeatNanos == NEVER ? "heartbeat timeout: no heartbeat received"
                        : "heartbeat timeout: no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms");
            }
            return null;
        });
    }

    /** Reads the target under the lock and sends after unlocking; false (counted as dropped) unless CONNECTED. */
    @Override
    public boolean send(DataFrame frame) {
        Objects.requireNonNull(frame, "frame");
        NodeInfo target;
        lockForChange("send");
        try {
            requireNotHandingOver("send");
            target = phase == Phase.ACTIVE && state == CONNECTED ? remoteNode : null;
        } finally {
            lock.unlock();
        }
        return sendNow(target, frame);
    }

    /** Closes for good: DISCONNECTED (one event if it was not), later commands ignored. Idempotent. */
    @Override
    public void close() {
        change("close", out -> {
            if (phase == Phase.CLOSED) {
                return null;
            }
            requireNotHandingOver("close");
            return closeLocked(out);
        });
    }

    /** The strategy's close on deactivation: like {@link #close()}, but one handing over is left to the swap. */
    void closeForShutdown() {
        change("close on shutdown", out -> phase == Phase.ACTIVE ? closeLocked(out) : null);
    }

    private Runnable closeLocked(List<Event> out) {
        phase = Phase.CLOSED;
        generation++;
        setState(DISCONNECTED, out);
        return this::retireAfterDelivery;
    }

    /**
     * Folds the counters into the strategy's totals once the close's own event has been delivered (and counted): a
     * task on the event thread, queued behind that delivery. Inline when the strategy is stopped.
     */
    private void retireAfterDelivery() {
        try {
            strategy.eventExecutor().execute(() -> strategy.retire(this));
        } catch (RejectedExecutionException e) {
            strategy.retire(this);
        }
    }

    // ==== queries ====================================================================================================

    @Override
    public ConnectionState getState() {
        return query(() -> state, Snapshot::state);
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return getRemoteNode().map(NodeInfo::id);
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        return Optional.ofNullable(query(() -> remoteNode, Snapshot::remoteNode));
    }

    /** The immutable list last stored (replaced whole by a handshake, never changed in place). */
    @Override
    public List<DeviceInfo> getRemoteDevices() {
        return query(() -> devices, Snapshot::devices);
    }

    @Override
    public long getTimeSinceLastHeartbeat() {
        long last = query(() -> lastHeartbeatNanos, Snapshot::lastHeartbeatNanos);
        return last == NEVER ? Long.MAX_VALUE : TimeUnit.NANOSECONDS.toMillis(Math.max(0, System.nanoTime() - last));
    }

    /**
     * Reads {@code guarded} under the lock, or, when the bounded wait runs out, {@code fallback} from the last
     * snapshot. Counts the query; times about one in {@value LatencySamples#EVERY}.
     */
    private <T> T query(Supplier<T> guarded, Function<Snapshot, T> fallback) {
        boolean timed = LatencySamples.pick();
        long t0 = timed ? System.nanoTime() : 0;
        strategy.injectQueryDelay(); // test fixture; nothing by default
        T answer;
        if (lockForQuery()) {
            try {
                answer = guarded.get();
            } finally {
                lock.unlock();
            }
        } else {
            answer = fallback.apply(published);
        }
        queries.increment();
        if (timed) { // the strategy's sample first: its count never lags behind an engine's
            long nanos = System.nanoTime() - t0;
            strategy.latency().record(nanos);
            latency.record(nanos);
        }
        return answer;
    }

    /** This engine's counters now. Never blocks. */
    @Override
    public ConnectionMetrics metrics() {
        ConnectionMetrics.LatencySummary l = latency.summary(); // before the counters: samples never outnumber queries
        return totals().toMetrics(l);
    }

    SyncConnectionStrategy.Totals totals() {
        return new SyncConnectionStrategy.Totals(queries.sum(), contentions.sum(), callbacks.sum(), errors.sum(),
                dropped.sum(), stalls.sum());
    }

    // ==== handover ===================================================================================================

    /**
     * Captures the state and stops (see the class comment), then waits until every event raised so far has been
     * delivered.
     *
     * @throws IllegalStateException when closed, already handing over or handed over, called on the event thread (from
     *                               an event: it would wait for itself), or when the events were not delivered within
     *                               {@code handover.timeout.ms} (or the wait was interrupted): then the engine goes on
     *                               as before
     */
    @Override
    public Handover beginHandover() {
        if (strategy.isEventThread(Thread.currentThread())) {
            throw new IllegalStateException(this + ": beginHandover must not be called from an event of the sync "
                    + "strategy; it waits for the events to be delivered");
        }
        Handover handover;
        lockForChange("beginHandover");
        try {
            if (phase != Phase.ACTIVE) {
                throw new IllegalStateException(this + ": cannot hand over in phase " + phase);
            }
            phase = Phase.HANDING_OVER;
            generation++; // a handshake in flight is abandoned; a successor given CONNECTING dials its own
            Optional<Handshake> peer = remoteNode == null ? Optional.empty()
                    : Optional.of(new Handshake(remoteNode, devices));
            handover = new Handover(context, state, peer, lastHeartbeatNanos, List.of()); // sends are synchronous
            published = snapshot();
        } finally {
            lock.unlock();
        }
        String failure = awaitEventsDelivered();
        if (failure != null) {
            stalls.increment();
            resume("beginHandover gave up");
            throw new IllegalStateException(this + ": beginHandover gave up: " + failure + "; the engine goes on");
        }
        LOG.debug("{}: handover begun in state {}", this, handover.state());
        return handover;
    }

    /** The successor has taken over: HANDED_OVER for good; the counters go into the strategy's totals. */
    @Override
    public void completeHandover() {
        change("completeHandover", out -> {
            if (phase != Phase.HANDING_OVER) {
                throw new IllegalStateException(this + ": no handover to complete (phase " + phase + ")");
            }
            phase = Phase.HANDED_OVER;
            return () -> strategy.retire(this);
        });
    }

    /** No successor: ACTIVE again, and the handshake beginHandover abandoned is dialled again. */
    @Override
    public void abortHandover() {
        resume("abortHandover");
    }

    private void resume(String what) {
        change(what, out -> {
            if (phase != Phase.HANDING_OVER) {
                throw new IllegalStateException(this + ": no handover to call off (phase " + phase + ")");
            }
            phase = Phase.ACTIVE;
            if (state != CONNECTING) {
                return null;
            }
            long gen = ++generation;
            return () -> dial(gen);
        });
    }

    /**
     * Continues an adopted engine once the strategy has registered it, before anyone else has it: sends the handed-over
     * frames first, in order, and dials when CONNECTING.
     */
    void start(List<DataFrame> queuedFrames) {
        change("adopt", out -> {
            NodeInfo target = state == CONNECTED ? remoteNode : null;
            long gen = state == CONNECTING ? ++generation : -1;
            return () -> {
                for (DataFrame f : queuedFrames) {
                    sendNow(target, f);
                }
                if (gen >= 0) {
                    dial(gen);
                }
            };
        });
    }

    /**
     * Queues a barrier task on the event thread and waits for it, bounded by {@code handover.timeout.ms}; the barrier
     * delivers whatever is still pending. Null when done, else why not.
     */
    private String awaitEventsDelivered() {
        long timeoutMs = strategy.handoverTimeoutMs();
        FutureTask<Void> barrier = new FutureTask<>(this::deliverPending, null);
        try {
            strategy.eventExecutor().execute(barrier);
        } catch (RejectedExecutionException e) {
            return "the sync strategy is stopped";
        }
        try {
            barrier.get(timeoutMs, TimeUnit.MILLISECONDS);
            return null;
        } catch (TimeoutException e) {
            barrier.cancel(false);
            LOG.warn("{}: beginHandover waited {} ms in vain for the event thread; the handover is refused{}", this,
                    timeoutMs, strategy.eventThreadStack());
            return "the events raised before it were not delivered within " + timeoutMs + " ms";
        } catch (InterruptedException e) {
            barrier.cancel(false);
            Thread.currentThread().interrupt();
            return "interrupted while waiting for the events to be delivered";
        } catch (ExecutionException e) {
            return "the event barrier failed: " + e.getCause();
        }
    }

    // ==== fault injection (test fixture) =============================================================================

    /** Holds the lock for {@code micros}, busy, as a slow critical section would. */
    void holdLock(long micros) {
        lockForChange("fault injection: hold the lock");
        try {
            SyncConnectionStrategy.busyWait(TimeUnit.MICROSECONDS.toNanos(micros));
        } finally {
            lock.unlock();
        }
    }

    /** Raises {@code n} error events if ACTIVE and CONNECTED. */
    void raiseInjectedErrors(int n) {
        change("fault injection: errors", out -> {
            if (phase == Phase.ACTIVE && state == CONNECTED) {
                for (int i = 0; i < n; i++) {
                    error(out, "injected error (test fixture inject.errors.per.second)");
                }
            }
            return null;
        });
    }

    // ==== the state machine (lock held) ==============================================================================

    /** Moves to {@code to} and records the event; the same state twice does nothing. */
    private void setState(ConnectionState to, List<Event> out) {
        assert lock.isHeldByCurrentThread() : "setState needs the engine lock";
        ConnectionState from = state;
        if (from == to) {
            return;
        }
        if (!from.canChangeTo(to)) {
            throw new IllegalStateException("illegal connection state change " + from + " -> " + to);
        }
        state = to;
        out.add(new Event(from + " -> " + to, e -> e.stateChanged(from, to)));
    }

    private void error(List<Event> out, String message) {
        errors.increment();
        out.add(new Event("error: " + message, e -> e.error(message)));
    }

    /** Records the peer, refreshes the heartbeat time and enters CONNECTED; devicesChanged when the list differs. */
    private void applyHandshake(Handshake peer, List<Event> out) {
        generation++; // an outbound handshake still in flight loses to this one
        remoteNode = peer.node();
        lastHeartbeatNanos = System.nanoTime();
        List<DeviceInfo> before = devices;
        devices = peer.devices(); // immutable: Handshake copies it
        setState(CONNECTED, out);
        if (!before.equals(devices)) {
            List<DeviceInfo> now = devices;
            out.add(new Event("devices changed", e -> e.devicesChanged(now)));
        }
    }

    private Snapshot snapshot() {
        return new Snapshot(state, remoteNode, devices, lastHeartbeatNanos, phase);
    }

    private void requireNotHandingOver(String command) {
        if (phase == Phase.HANDING_OVER || phase == Phase.HANDED_OVER) {
            throw new IllegalStateException(this + ": " + command + " refused in phase " + phase
                    + " (no command may reach an engine during or after its handover)");
        }
    }

    // ==== running changes ============================================================================================

    /** A command from outside: ignored once closed, refused while or after handing over, else run by change(). */
    private void command(String name, Change body) {
        change(name, out -> {
            if (phase == Phase.CLOSED) {
                return null;
            }
            requireNotHandingOver(name);
            return body.apply(out);
        });
    }

    /** Runs {@code body} under the lock, then, unlocked, delivers its events and runs what it returned. */
    private void change(String name, Change body) {
        List<Event> out = new ArrayList<>(2);
        Runnable after;
        lockForChange(name);
        try {
            after = body.apply(out);
        } finally {
            pending.addAll(out); // still under the lock: the queue is in the order of the changes
            published = snapshot();
            lock.unlock();
        }
        if (!out.isEmpty()) {
            deliverLater();
        }
        if (after != null) {
            after.run();
        }
    }

    /** The wait of a change: never gives up (see the class comment). */
    private void lockForChange(String what) {
        if (lock.tryLock()) {
            return;
        }
        long timeoutMs = strategy.lockTimeoutMs();
        changesWaiting.incrementAndGet();
        try {
            while (!acquire(timeoutMs, false)) {
                stalls.increment();
                Thread owner = lock.owner();
                String holder = owner == null ? "nobody at that instant" : owner.getName() + " at:" + stackOf(owner);
                LOG.warn("{}: {} waited {} ms for the engine lock, held by {}; it waits another round", this, what,
                        timeoutMs, holder);
            }
        } finally {
            changesWaiting.decrementAndGet();
        }
    }

    /** The wait of a query: false when it ran out (a stall); the caller then answers from the snapshot. */
    private boolean lockForQuery() {
        if (changesWaiting.get() == 0 && lock.tryLock()) {
            return true;
        }
        contentions.increment();
        if (acquire(strategy.lockTimeoutMs(), true)) {
            return true;
        }
        stalls.increment();
        LOG.debug("{}: a query answered from the last snapshot: the lock stayed busy", this);
        return false;
    }

    /**
     * The bounded wait: tries again and again within {@code timeoutMs}, yielding the CPU in between, and never queues
     * in the lock. A queue would hand the lock on one scheduling round at a time (with many more threads than cores,
     * far slower than the few field accesses the lock guards). A query ({@code giveWay}) does not even try while a
     * change waits, so a command never starves behind a crowd of readers. Not interruptible: it never blocks, and the
     * interrupt flag is left as it was.
     */
    private boolean acquire(long timeoutMs, boolean giveWay) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        do {
            Thread.yield();
            if ((!giveWay || changesWaiting.get() == 0) && lock.tryLock()) {
                return true;
            }
        } while (System.nanoTime() - deadline < 0);
        return false;
    }

    // ==== calling out (never under the lock) =========================================================================

    /** Gives the frame to the link; a null target means not connected. */
    private boolean sendNow(NodeInfo target, DataFrame frame) {
        assert !lock.isHeldByCurrentThread() : "never call the peer link under the engine lock";
        if (target == null) {
            dropped.increment();
            return false;
        }
        try {
            context.link().sendData(target, frame);
            return true;
        } catch (RuntimeException e) {
            dropped.increment();
            LOG.debug("{}: send failed", this, e);
            return false;
        }
    }

    /** Starts the outbound handshake of generation {@code gen} on the connect thread. */
    private void dial(long gen) {
        try {
            strategy.connectExecutor().execute(() -> handshake(gen));
        } catch (RejectedExecutionException e) {
            handshakeDone(gen, null, "the sync strategy is stopped");
        }
    }

    /** On the connect thread: the blocking handshake, then its result as a command. */
    private void handshake(long gen) {
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
            LOG.warn("{}: the handshaker threw", this, e);
            failure = e.toString();
        }
        handshakeDone(gen, peer, failure);
    }

    private void handshakeDone(long gen, Handshake peer, String failure) {
        change("handshake result", out -> {
            if (phase != Phase.ACTIVE || gen != generation || state != CONNECTING) {
                return () -> LOG.debug("{}: a late handshake result ignored ({})", this, failure == null ? "success"
                        : failure);
            }
            if (failure == null) {
                applyHandshake(peer, out);
            } else {
                setState(FAILED, out);
                error(out, "handshake with " + peerAddress + " failed: " + failure);
            }
            return null;
        });
    }

    // ==== the event thread ===========================================================================================

    private void deliverLater() {
        try {
            strategy.eventExecutor().execute(this::deliverPending);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: events not delivered: the sync strategy is stopped", this);
        }
    }

    /** On the event thread only: delivers the pending events in order; one that throws is logged and counted. */
    private void deliverPending() {
        Event e;
        while ((e = pending.poll()) != null) {
            try {
                e.call().accept(events);
            } catch (Throwable t) {
                errors.increment();
                LOG.error("{}: the events sink failed on {}", this, e.what(), t);
            }
            callbacks.increment();
        }
    }

    /** The thread's stack, one "at" line per frame, for a log line; empty for null. */
    static String stackOf(Thread thread) {
        StringBuilder stack = new StringBuilder();
        if (thread != null) {
            for (StackTraceElement e : thread.getStackTrace()) {
                stack.append("\n\tat ").append(e);
            }
        }
        return stack.toString();
    }

    /** For tests: the phase as of the last change. */
    Phase phase() {
        return published.phase();
    }

    @Override
    public String toString() {
        Snapshot s = published;
        return "sync engine for " + peerAddress + (s.remoteNode() == null ? "" : " (" + s.remoteNode().id() + ")")
                + (s.phase() == Phase.ACTIVE ? "" : " (" + s.phase() + ")");
    }
}
