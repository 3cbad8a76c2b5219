package org.midimesh.connection.seda.internal;

import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One engine's mailbox on the shared worker stage: a bounded multi-producer, single-consumer command queue whose
 * items run one at a time, in queue order, on whichever stage thread currently owns the mailbox. Thread-safe: any
 * thread may offer; only the owner runs items.
 *
 * <h2>Ownership</h2>
 * The {@link #scheduled} flag is the ownership token. A producer that queues an item and wins the CAS
 * {@code false -> true} owns the mailbox and hands it to the stage ({@link Executor#execute}); the stage thread drains
 * it and releases the token. At most one drain task exists per mailbox, so its items never run on two threads at once,
 * however many threads the stage has, and 1,000 mailboxes need no more threads than the stage has. A drain runs at most
 * {@value #BATCH} items, then re-queues itself at the back of the stage (keeping the token), so a busy mailbox cannot
 * starve the others.
 * <p>After releasing the token the drainer re-checks the queue: an item offered after its last poll, whose producer
 * lost the CAS to the still-set flag, is then picked up by the drainer itself (standard release-then-recheck; every
 * access involved is a sequentially consistent atomic, so one side always sees the other).
 *
 * <h2>Running on the caller</h2>
 * {@link #offerOrRun} lets a producer that finds the mailbox idle (RUN mode, nothing queued, token free) take the token
 * itself and run its item at once, on its own thread, instead of waking a stage thread for it: the hot path for MIDI.
 * It is still one owner at a time (the token), and each producer's order holds: an item it gave before has either run
 * completely (its owner released the token) or is still queued or running, and then this one queues behind it. While it
 * runs, other producers queue; it hands their items to the stage afterwards and never drains them itself, so a producer
 * runs at most its own item.
 *
 * <h2>Bounds</h2>
 * {@link #depth} counts reserved slots: a producer reserves with a CAS before queueing and the owner releases after
 * polling. {@link #offer} (data: MIDI) admits up to {@code capacity} items; {@link #offerControl} (worker queries) may
 * also use a reserve of {@code controlReserve} more; {@link #offerAlways} (control commands, which must never be lost)
 * is not bounded at all. A refused offer changes nothing and never blocks.
 *
 * <h2>Modes</h2>
 * <ul>
 * <li>RUN: items run on the stage (or, once the stage refuses work because it is shut down, on the thread that found it
 * refused, so nothing is stranded); an item given to {@link #offerOrRun} while the mailbox is idle runs on its
 * producer's thread.</li>
 * <li>HOLD ({@link #hold()}, by the owner): nothing runs; items stay queued, in order (an engine handing over keeps
 * what arrives behind its barrier this way), until {@link #resume()} (a handover called off) or
 * {@link #drainInlineTo}.</li>
 * <li>INLINE ({@link #drainInlineTo}): every item, queued or later, goes to a sink on the producer's own thread, still
 * one at a time and in order (rejecting after close, discarding after a completed handover).</li>
 * </ul>
 *
 * @param <T> item type
 */
final class SerialExecutor<T> {

    /** Runs one item. Called by the mailbox owner only; must not block for long. */
    @FunctionalInterface
    interface Handler<T> {
        void handle(T item);
    }

    /** Items one drain task runs before it yields its stage thread to other mailboxes. */
    static final int BATCH = 64;

    /** Names the rule the owner assertions check. */
    static final String SINGLE_OWNER_RULE = "SEDA single-owner rule: a connection's commands run on one thread at a "
            + "time, the thread holding its mailbox token";

    private static final int RUN = 0;
    private static final int HOLD = 1;
    private static final int INLINE = 2;

    private final String name;
    private final Executor stage;
    private final Handler<T> handler;
    private final Consumer<Throwable> onFailure;
    private final int capacity;
    private final int controlLimit;

    // Lock-free MPSC use of a Michael-Scott queue: many producers offer, only the token holder polls. offer() publishes
    // the item to the poller (the queue's own volatile links).
    private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
    // Reserved slots (see class comment). CAS-incremented by producers before offer, decremented by the owner after
    // poll, so it is never below the queue size. Orders nothing else; read by metrics as queue_depth.
    private final AtomicInteger depth = new AtomicInteger();
    // The ownership token (see class comment). The CAS false->true by a producer, the set(false) by the drainer and
    // the hand-off through Executor.execute form a happens-before chain from one owner to the next, so every write a
    // previous owner made to the engine's worker-owned fields is visible to the next owner.
    private final AtomicBoolean scheduled = new AtomicBoolean();
    // The thread running items now, or null. Written by the owner on entering and leaving a drain; read by assertions
    // (isOwner) on the owner itself and by tests. Publishes nothing.
    private volatile Thread owner;
    // RUN, HOLD or INLINE. HOLD is written by the owner; INLINE by any thread, after inlineSink. A drainer reads it
    // before every item and again after releasing the token (the re-check), so a change to INLINE is never missed.
    private volatile int mode = RUN;
    // Written before mode becomes INLINE; that volatile write of mode publishes it to whoever reads INLINE.
    private volatile Handler<T> inlineSink;

    private final Runnable stageDrain = () -> drain(true);

    /**
     * @param name           for log messages
     * @param stage          the shared worker pool
     * @param capacity       data items admitted (at least 1)
     * @param controlReserve extra slots only control items may use
     * @param handler        runs each item in RUN mode
     * @param onFailure      told about anything an item threw (the drain goes on with the next item)
     */
    SerialExecutor(String name, Executor stage, int capacity, int controlReserve, Handler<T> handler,
            Consumer<Throwable> onFailure) {
        if (capacity < 1 || controlReserve < 0) {
            throw new IllegalArgumentException("capacity must be at least 1 and controlReserve at least 0");
        }
        this.name = Objects.requireNonNull(name, "name");
        this.stage = Objects.requireNonNull(stage, "stage");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.onFailure = Objects.requireNonNull(onFailure, "onFailure");
        this.capacity = capacity;
        this.controlLimit = (int) Math.min(Integer.MAX_VALUE, (long) capacity + controlReserve);
    }

    /** Queues a data item; false (nothing queued) when {@code capacity} items are waiting. Never blocks. */
    boolean offer(T item) {
        return admit(item, capacity);
    }

    /** Queues an item that may use the reserve; false only when the reserve is used up too. Never blocks. */
    boolean offerControl(T item) {
        return admit(item, controlLimit);
    }

    /** Queues an item that must not be lost (control commands, results, close, handover barrier). Never blocks. */
    void offerAlways(T item) {
        depth.incrementAndGet();
        enqueue(item);
    }

    /**
     * {@link #offer}, except that when the mailbox is idle the item runs now, on this thread, which owns the mailbox
     * meanwhile (see the class comment); then returns after it ran. False (nothing run or queued) when {@code capacity}
     * items are waiting. Blocks only as long as the handler runs for this one item.
     */
    boolean offerOrRun(T item) {
        Objects.requireNonNull(item, "item");
        // Cheap reads first: a busy mailbox (most items under load) queues without a failing CAS on the token.
        if (mode != RUN || scheduled.get() || !queue.isEmpty()) {
            return offer(item);
        }
        if (!reserve(capacity)) {
            return false;
        }
        if (!scheduled.compareAndSet(false, true)) {
            enqueue(item); // another producer or the drainer took the token first
            return true;
        }
        if (mode != RUN) {
            // Held or forwarding since the first read: the item queues, and runs where the mode says (dispatch, as for
            // any producer that wins the token).
            queue.offer(item);
            dispatch();
            return true;
        }
        // Items other producers queued since the first read may wait behind this one: their offers overlap this call
        // (each returns only after losing the CAS above), so either order is theirs to see; each producer's own items
        // were queued before its first read, which then finds the queue non-empty. The re-check below dispatches them.
        enter();
        try {
            depth.decrementAndGet(); // after owner is set, as in drain: isIdle is never true while the item runs
            runOne(handler, item);
        } finally {
            owner = null;
        }
        scheduled.set(false);
        // Release, then re-check: items offered while this one ran lost the CAS to the set token; the stage drains
        // them (never this caller, which came to run one item).
        if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
            dispatch();
        }
        return true;
    }

    private boolean admit(T item, int limit) {
        Objects.requireNonNull(item, "item");
        if (!reserve(limit)) {
            return false;
        }
        enqueue(item);
        return true;
    }

    /** Reserves a slot in {@link #depth} unless {@code limit} are taken. */
    private boolean reserve(int limit) {
        for (;;) {
            int d = depth.get();
            if (d >= limit) {
                return false;
            }
            if (depth.compareAndSet(d, d + 1)) {
                return true;
            }
        }
    }

    private void enqueue(T item) {
        queue.offer(item);
        if (scheduled.compareAndSet(false, true)) {
            dispatch();
        }
    }

    /** Token held: run the mailbox where its mode says. */
    private void dispatch() {
        if (mode == RUN) {
            try {
                stage.execute(stageDrain);
                return;
            } catch (RejectedExecutionException e) {
                // The stage is shut down: drain here rather than strand the items (only during strategy shutdown).
            }
        }
        drain(false);
    }

    /** Runs items while holding the token; see the class comment. */
    private void drain(boolean onStage) {
        int n = 0;
        for (;;) {
            enter();
            boolean yieldStage = false;
            try {
                for (;;) {
                    int m = mode;
                    if (m == HOLD) {
                        break;
                    }
                    if (onStage && m == RUN && n >= BATCH) {
                        yieldStage = true;
                        break;
                    }
                    T item = queue.poll();
                    if (item == null) {
                        break;
                    }
                    depth.decrementAndGet();
                    n++;
                    runOne(m == INLINE ? inlineSink : handler, item);
                }
            } finally {
                owner = null;
            }
            if (yieldStage) {
                n = 0;
                try {
                    stage.execute(stageDrain); // keeps the token: the next drain task is the owner
                    return;
                } catch (RejectedExecutionException e) {
                    continue; // the stage is shut down: keep draining on this thread
                }
            }
            scheduled.set(false);
            if (queue.isEmpty() || mode == HOLD || !scheduled.compareAndSet(false, true)) {
                return;
            }
            // Re-acquired: an item arrived (or the mode changed) after the last poll.
        }
    }

    /** The token holder becomes the owner; a second owner is a broken token and fails loudly. */
    private void enter() {
        Thread me = Thread.currentThread();
        Thread previous = owner;
        if (previous != null) {
            throw new IllegalStateException(SINGLE_OWNER_RULE + ": " + name + " entered by " + me.getName() + " while "
                    + previous.getName() + " owns it");
        }
        owner = me;
    }

    private void runOne(Handler<T> h, T item) {
        try {
            h.handle(item);
        } catch (Throwable t) {
            onFailure.accept(t);
        }
    }

    /**
     * Stops running items after the current one; later items stay queued, in order, until {@link #drainInlineTo}.
     * Owner only.
     */
    void hold() {
        assert isOwner() : SINGLE_OWNER_RULE + " (hold)";
        mode = HOLD;
    }

    /**
     * Ends a {@link #hold()}: items run on the stage again, the queued ones first, in order. Any thread; the caller
     * must know that the owner has held the mailbox and that no {@link #drainInlineTo} happened since.
     *
     * @throws IllegalStateException when the mailbox is not held
     */
    void resume() {
        if (mode != HOLD) {
            throw new IllegalStateException(name + " is not held");
        }
        mode = RUN;
        if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
            dispatch();
        }
    }

    /**
     * From now on every item, queued or later, is given to {@code sink} instead, in order, one at a time, on the thread
     * that finds work (this one, or a producer). Any thread.
     */
    void drainInlineTo(Handler<T> sink) {
        inlineSink = Objects.requireNonNull(sink, "sink");
        mode = INLINE;
        if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
            drain(false);
        }
    }

    /**
     * Whether no item is queued, nobody runs one and the token is free, so everything offered before has completely
     * run and the next {@link #offerOrRun} finds the mailbox idle (unless another producer comes first). Reads the
     * depth (released right after an item is polled), then the owner (cleared after the item ran), then the token
     * (released last), so a true answer is never premature.
     */
    boolean isIdle() {
        return depth.get() == 0 && owner == null && !scheduled.get();
    }

    /** Whether the calling thread runs this mailbox's items now. */
    boolean isOwner() {
        return owner == Thread.currentThread();
    }

    /** The thread running items now, or null (for tests and diagnostics). */
    Thread owner() {
        return owner;
    }

    /** Items waiting (slots reserved and not yet run). */
    int depth() {
        return depth.get();
    }

    int capacity() {
        return capacity;
    }

    boolean isHeld() {
        return mode == HOLD;
    }

    @Override
    public String toString() {
        return "mailbox " + name;
    }
}
