package org.midimesh.strategy.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a connection's commands into its engine, holds them back while the engine is replaced, and lets them out again
 * in order. Thread-safe and lock-free: any thread may issue commands; one thread at a time (the connection's mover,
 * which holds its move lock) may {@link #shut} and {@link #open} it.
 *
 * <h2>State</h2>
 * One {@code long}, changed only by CAS or atomic add, packs four things so every decision reads them together:
 * {@code RUNNING} (commands now inside the engine, bits 0..29), {@code HELD} (commands counted into the queue and not
 * yet run, bits 30..59), {@code DRAINING} (bit 60: a thread is running queued commands) and {@code SHUT} (bit 61: the
 * engine is being replaced).
 * <ul>
 * <li>A command goes straight into the engine (RUNNING + 1) only when nothing is shut, queued or draining; otherwise
 * it counts itself into HELD and queues, and, unless the gate is shut, tries to drain the queue itself.</li>
 * <li>{@link #shut} sets SHUT and waits until no command runs and nobody drains: from then on the old engine gets no
 * command. {@link #open} clears SHUT once the new engine is published; the queue then drains onto it.</li>
 * <li>A drainer runs queued commands one by one, in queue order, while the gate is not shut; it stops at SHUT, when
 * the queue is empty, or after {@link #SLICE_NANOS}, when it hands the rest to the helper executor. So no caller (the
 * mover included) drains for long, and a queued command is always run: by its own thread, by a drainer already at
 * work (which re-checks the queue after letting go), or by the helper.</li>
 * </ul>
 * <h2>Ordering</h2>
 * Per caller, commands take effect in the order issued: a caller's earlier command either left the engine before
 * its next one is decided, or is in the queue, and then the next one queues behind it (HELD is above 0 until the
 * queue is empty). Whoever runs a command reads the current engine after the state change that let it run; the mover
 * publishes the new engine (a volatile write) before the CAS that opens, so every command run after opening sees it.
 */
final class CommandGate {

    private static final Logger LOG = LoggerFactory.getLogger(CommandGate.class);

    /** Longest stretch one thread drains before it hands the queue to the helper. */
    static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private static final long ONE_RUNNING = 1L;
    private static final long RUNNING_MASK = (1L << 30) - 1;
    private static final int HELD_SHIFT = 30;
    private static final long ONE_HELD = 1L << HELD_SHIFT;
    private static final long HELD_MASK = RUNNING_MASK << HELD_SHIFT;
    private static final long DRAINING = 1L << 60;
    private static final long SHUT = 1L << 61;

    private final Supplier<ConnectionEngine> engine;
    private final Executor helper;
    // RUNNING | HELD | DRAINING | SHUT, see the class comment. Every change is a CAS or an atomic add (each a full
    // fence), so every decision above sees the parts of one instant, and what a thread did before its change is
    // visible to whoever sees the change.
    private final AtomicLong state = new AtomicLong();
    // Commands counted into HELD, in order; added by their callers after counting, polled only by the drainer.
    private final ConcurrentLinkedQueue<Consumer<ConnectionEngine>> held = new ConcurrentLinkedQueue<>();

    /**
     * @param engine the connection's current engine (read whenever a queued command runs)
     * @param helper runs the rest of a drain that took longer than one slice
     */
    CommandGate(Supplier<ConnectionEngine> engine, Executor helper) {
        this.engine = engine;
        this.helper = helper;
    }

    /**
     * Lets the caller in, or queues {@code command}.
     *
     * @return true when the caller must run the command itself now, on the current engine, and then call
     *         {@link #exit()}; false when it was queued (it runs in order, maybe already before this returns)
     */
    boolean enterOrHold(Consumer<ConnectionEngine> command) {
        long s = state.get();
        for (;;) {
            if ((s & (SHUT | DRAINING | HELD_MASK)) == 0) {
                if (state.compareAndSet(s, s + ONE_RUNNING)) {
                    return true;
                }
            } else if (state.compareAndSet(s, s + ONE_HELD)) {
                held.add(command);
                // Decide on the state now, after queueing, not on s: open() may have cleared SHUT and found the queue
                // empty between our count and our add, and then only we can run it (found by the jcstress tests).
                if ((state.get() & SHUT) == 0) {
                    drain();
                }
                return false;
            }
            s = state.get();
        }
    }

    /** A command let in by {@link #enterOrHold} has left the engine. */
    void exit() {
        state.getAndAdd(-ONE_RUNNING);
    }

    /**
     * Holds every later command and waits until none runs and nobody drains. Called by the one mover only.
     *
     * @return false when that did not happen within {@code timeoutNanos} (the gate stays shut; the caller must
     *         {@link #open} it)
     */
    boolean shut(long timeoutNanos) {
        long s = state.get();
        while (!state.compareAndSet(s, s | SHUT)) {
            s = state.get();
        }
        long deadline = System.nanoTime() + timeoutNanos;
        long park = 1_000;
        for (int round = 0; (state.get() & (RUNNING_MASK | DRAINING)) != 0; round++) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            if (round < 64) {
                Thread.onSpinWait(); // a command takes microseconds
            } else {
                LockSupport.parkNanos(park);
                park = Math.min(park * 2, TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
        return true;
    }

    /**
     * Lets commands in again; the queued ones run first, in order, on the engine current now (the mover published it
     * before calling this). Called by the mover only. Drains at most one slice itself.
     */
    void open() {
        long s = state.get();
        while (!state.compareAndSet(s, s & ~SHUT)) {
            s = state.get();
        }
        drain();
    }

    /** Runs queued commands unless someone else is, or the gate is shut; see the class comment. */
    private void drain() {
        if (!tryDrain()) {
            return;
        }
        long deadline = System.nanoTime() + SLICE_NANOS;
        for (;;) {
            Consumer<ConnectionEngine> c;
            while ((state.get() & SHUT) == 0 && System.nanoTime() - deadline < 0 && (c = held.poll()) != null) {
                try {
                    c.accept(engine.get());
                } catch (RuntimeException e) {
                    LOG.error("a command held during a strategy swap failed", e);
                } finally {
                    state.getAndAdd(-ONE_HELD);
                }
            }
            long s = state.get();
            while (!state.compareAndSet(s, s & ~DRAINING)) {
                s = state.get();
            }
            // Re-check after letting go: a command queued while we held DRAINING may have found us busy and left.
            if ((state.get() & SHUT) != 0 || held.peek() == null) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                try {
                    helper.execute(this::drain);
                } catch (RejectedExecutionException e) {
                    // Stopping: no helper. Run the rest here rather than strand it.
                    deadline = Long.MAX_VALUE / 2 + System.nanoTime();
                    if (tryDrain()) {
                        continue;
                    }
                }
                return;
            }
            if (!tryDrain()) {
                return;
            }
        }
    }

    private boolean tryDrain() {
        long s = state.get();
        for (;;) {
            if ((s & (SHUT | DRAINING)) != 0 || (s & HELD_MASK) == 0) {
                return false;
            }
            if (state.compareAndSet(s, s | DRAINING)) {
                return true;
            }
            s = state.get();
        }
    }

    /** Commands queued now (for metrics and tests). */
    int heldCount() {
        return (int) ((state.get() & HELD_MASK) >>> HELD_SHIFT);
    }

    /** Commands inside the engine now (for tests). */
    int runningCount() {
        return (int) (state.get() & RUNNING_MASK);
    }

    boolean isShut() {
        return (state.get() & SHUT) != 0;
    }
}
