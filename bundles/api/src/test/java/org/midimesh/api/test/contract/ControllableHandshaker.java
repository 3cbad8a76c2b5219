package org.midimesh.api.test.contract;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;

/**
 * A {@link Handshaker} the test controls. Three kinds:
 * <ul>
 * <li>{@link #answering}: every call returns (or throws) what the {@link Outcome} gives, at once;</li>
 * <li>{@link #scripted()}: every call blocks until the test scripts its outcome with {@link #respond} or
 * {@link #fail};</li>
 * <li>{@link #gated}: every call blocks until the test calls {@link #open()}, then answers like {@code answering}.</li>
 * </ul>
 * Like a real handshaker it blocks for at most a bounded time ({@link #DEFAULT_MAX_BLOCK} unless given), then fails
 * with an {@link IOException}; an interrupt ends a wait with an {@link InterruptedIOException} (flag set again);
 * {@link #shutdown()} fails every waiting and later call. It records each call's thread and, after
 * {@link #checkingLocks()}, any lock that thread held ({@link HeldLocks}): a strategy must never handshake under a
 * lock. Thread-safe.
 */
public final class ControllableHandshaker implements Handshaker {

    /** What a call returns, or the {@link IOException} it throws. */
    @FunctionalInterface
    public interface Outcome {
        Handshake next() throws IOException;
    }

    /** How long a call blocks at most by default, like the real handshaker's connect plus read timeout. */
    public static final Duration DEFAULT_MAX_BLOCK = Duration.ofSeconds(20);

    private final Outcome automatic; // null: scripted
    private final CountDownLatch gate; // null: not gated
    private final long maxBlockNanos;
    private final BlockingQueue<Object> script = new LinkedBlockingQueue<>();
    // Set once by shutdown(); read by blocked calls between their bounded waits. Publishes nothing else.
    private volatile boolean shut;
    // Set by checkingLocks() before the handshaker is used; read by every call. Publishes nothing else.
    private volatile boolean checkLocks;

    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger returned = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> lockViolations = new ConcurrentLinkedQueue<>();

    private ControllableHandshaker(Outcome automatic, boolean gated, Duration maxBlock) {
        this.automatic = automatic;
        this.gate = gated ? new CountDownLatch(1) : null;
        this.maxBlockNanos = maxBlock.toNanos();
    }

    /** Answers every call at once with {@code handshake}. */
    public static ControllableHandshaker answering(Handshake handshake) {
        return new ControllableHandshaker(() -> handshake, false, DEFAULT_MAX_BLOCK);
    }

    /** Answers every call at once with what {@code outcome} gives (it may throw {@link IOException}). */
    public static ControllableHandshaker answering(Outcome outcome) {
        return new ControllableHandshaker(outcome, false, DEFAULT_MAX_BLOCK);
    }

    /** Every call waits for an outcome scripted with {@link #respond} or {@link #fail}, one per call, in order. */
    public static ControllableHandshaker scripted() {
        return new ControllableHandshaker(null, false, DEFAULT_MAX_BLOCK);
    }

    /** Every call waits until {@link #open()}, then answers with {@code outcome}. */
    public static ControllableHandshaker gated(Outcome outcome) {
        return new ControllableHandshaker(outcome, true, DEFAULT_MAX_BLOCK);
    }

    /** Like {@link #gated(Outcome)}, but a call gives up after {@code maxBlock} ("timed out", like a real one). */
    public static ControllableHandshaker gated(Outcome outcome, Duration maxBlock) {
        return new ControllableHandshaker(outcome, true, maxBlock);
    }

    /**
     * Also records every call made while its thread held a lock. Slow (each check walks the heap at a safepoint), so
     * only for tests about locking.
     *
     * @return this handshaker
     */
    public ControllableHandshaker checkingLocks() {
        checkLocks = true;
        return this;
    }

    /** Scripts the next call's answer. */
    public void respond(Handshake handshake) {
        script.add(handshake);
    }

    /** Scripts the next call's failure. */
    public void fail(String message) {
        script.add(new IOException(message));
    }

    /** Lets every waiting and later call of a gated handshaker through. */
    public void open() {
        if (gate != null) {
            gate.countDown();
        }
    }

    /** Fails every waiting and later call at once. Idempotent. */
    public void shutdown() {
        shut = true;
        open();
    }

    /** Calls started so far. */
    public int calls() {
        return calls.get();
    }

    /** Calls that have returned or thrown. */
    public int returned() {
        return returned.get();
    }

    /** Calls started and not yet returned. */
    public int inFlight() {
        return calls.get() - returned.get();
    }

    /** Names of the threads the calls ran on, in call order. */
    public List<String> threads() {
        return List.copyOf(threads);
    }

    /** One line per call made while its thread held a lock (only after {@link #checkingLocks()}). */
    public List<String> lockViolations() {
        return List.copyOf(lockViolations);
    }

    @Override
    public Handshake handshake(String host, int httpPort) throws IOException {
        // The thread first: a test that sees calls() == n then finds n names in threads().
        threads.add(Thread.currentThread().getName());
        calls.incrementAndGet();
        if (checkLocks) {
            List<String> held = HeldLocks.ofCurrentThread();
            if (!held.isEmpty()) {
                lockViolations.add("handshake on " + Thread.currentThread().getName() + " holding " + held);
            }
        }
        try {
            if (automatic == null) {
                Object outcome = await(() -> script.poll(20, TimeUnit.MILLISECONDS));
                if (outcome instanceof IOException e) {
                    throw new IOException(e.getMessage());
                }
                return (Handshake) outcome;
            }
            if (gate != null) {
                await(() -> gate.await(20, TimeUnit.MILLISECONDS) ? Boolean.TRUE : null);
            }
            if (shut) {
                throw new IOException("handshaker shut down by the test");
            }
            return automatic.next();
        } finally {
            returned.incrementAndGet();
        }
    }

    @FunctionalInterface
    private interface Poll {
        Object poll() throws InterruptedException;
    }

    /** Polls in short slices until a result, shutdown, the interrupt or the bound. */
    private Object await(Poll poll) throws IOException {
        long deadline = System.nanoTime() + maxBlockNanos;
        try {
            while (true) {
                if (shut) {
                    throw new IOException("handshaker shut down by the test");
                }
                Object result = poll.poll();
                if (result != null) {
                    return result;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException("timed out (test handshaker)");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }
}
