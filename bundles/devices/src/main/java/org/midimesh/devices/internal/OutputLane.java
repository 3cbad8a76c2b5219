package org.midimesh.devices.internal;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery of one local output: a bounded queue of batches and at most one task on the delivery pool that plays
 * them on the port, in order, one {@code play} at a time. Whoever offers (the transport's receive thread, an HTTP
 * thread, a local input's thread) only queues and returns, so a slow or hung port delays nobody else.
 * <p>Threads: {@link #offer} on any thread; {@link #drain} on a delivery-pool thread, only one at a time (the
 * {@link #scheduled} flag); {@link #checkHung} on the registry's watchdog thread; {@link #status} on any thread.
 * No lock: the queue is concurrent, the counters are adders or atomics.
 */
final class OutputLane {

    private static final Logger LOG = LoggerFactory.getLogger(OutputLane.class);

    private record Batch(List<MidiMessage> messages, NodeId source) {
    }

    private final LocalDevice device;
    private final MidiPort port;
    /** The driver and the bundle it came from, for the log. */
    private final String origin;
    private final Executor pool;
    private final int capacity;

    private final ConcurrentLinkedQueue<Batch> queue = new ConcurrentLinkedQueue<>();
    // Messages in the queue. Reserved by offer before it adds a batch (so the bound holds under races) and released by
    // drain after it polls one; a counter only, the queue itself publishes the batches.
    private final AtomicInteger queued = new AtomicInteger();
    // True while a drain task is submitted or running. Set by offer (compareAndSet false->true, then submit), cleared by
    // that drain when it found the queue empty, after which it looks once more: an offer that lost the race to set it
    // has added its batch before trying, so either this drain or the offer's own submit plays it.
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final LongAdder played = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder failures = new LongAdder();
    // System.nanoTime() when the running play started, 0 when none runs. Written by the drain thread around each
    // play, read by the watchdog; volatile so the watchdog sees a play start and end promptly (no other data rides
    // on it).
    private volatile long playingSince;
    // True from the watchdog finding a play over the hang limit until that play returns. Written by the watchdog
    // (set) and the drain thread (clear); read by offer to drop at once instead of queueing behind a hung call.
    private volatile boolean hung;
    // The last play failure, for a person; null after a play succeeds. Written by the drain thread, read by status.
    private volatile String lastFailure;
    // Set once when the device goes (its port was removed or the registry closed); read by offer and drain.
    private volatile boolean closed;

    OutputLane(LocalDevice device, MidiPort port, String origin, Executor pool, int capacity) {
        this.device = device;
        this.port = port;
        this.origin = origin;
        this.pool = pool;
        this.capacity = capacity;
    }

    MidiPort port() {
        return port;
    }

    /** Queues the batch, or drops and counts it when the lane is closed, hung or full. Never blocks. */
    boolean offer(List<MidiMessage> messages, NodeId source) {
        int n = messages.size();
        if (closed || hung) {
            dropped.add(n);
            return false;
        }
        if (queued.addAndGet(n) > capacity) {
            queued.addAndGet(-n);
            dropped.add(n);
            return false;
        }
        queue.add(new Batch(messages, source));
        schedule();
        return true;
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                pool.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // The pool is shut down: the registry is closing. Whatever is queued is dropped.
                scheduled.set(false);
                close();
            }
        }
    }

    /** Plays everything queued, in order. On a delivery-pool thread, one at a time per lane. */
    private void drain() {
        do {
            Batch b;
            while ((b = queue.poll()) != null) {
                int n = b.messages().size();
                queued.addAndGet(-n);
                if (closed) {
                    dropped.add(n);
                    continue;
                }
                playOne(b);
            }
            scheduled.set(false);
        } while (!queue.isEmpty() && scheduled.compareAndSet(false, true));
    }

    private void playOne(Batch b) {
        long start = System.nanoTime();
        playingSince = start == 0 ? 1 : start;
        try {
            port.play(b.messages(), b.source());
            played.add(b.messages().size());
            if (lastFailure != null) {
                lastFailure = null;
                LOG.info("{} ({}): play works again", device, origin);
            }
        } catch (Throwable t) {
            failures.increment();
            String first = lastFailure;
            lastFailure = String.valueOf(t);
            if (first == null) {
                LOG.error("{} ({}): play failed; the device is shown as unavailable until a play succeeds", device,
                        origin, t);
            } else {
                LOG.debug("{} ({}): play failed again", device, origin, t);
            }
        } finally {
            playingSince = 0;
            if (hung) {
                hung = false;
                LOG.warn("{} ({}): play returned after {} ms; its messages are played again", device, origin,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        }
    }

    /**
     * Marks the lane hung when its running play has taken longer than {@code limitNanos}, and drops what is queued
     * behind it. On the watchdog thread.
     */
    void checkHung(long now, long limitNanos) {
        long since = playingSince;
        if (since == 0 || hung || now - since < limitNanos) {
            return;
        }
        hung = true;
        int gone = 0;
        Batch b;
        while ((b = queue.poll()) != null) {
            queued.addAndGet(-b.messages().size());
            dropped.add(b.messages().size());
            gone += b.messages().size();
        }
        LOG.error("{} ({}): play has not returned for {} ms; the device is unavailable and its messages are dropped"
                + " until it returns ({} dropped now)", device, origin, TimeUnit.NANOSECONDS.toMillis(now - since),
                gone);
    }

    /** Stops delivery: what is queued and what comes later is dropped and counted. Any thread. */
    void close() {
        closed = true;
        Batch b;
        while ((b = queue.poll()) != null) {
            queued.addAndGet(-b.messages().size());
            dropped.add(b.messages().size());
        }
    }

    /** How the device is doing, combining the port's own availability with the lane's. Any thread. */
    DeviceStatus status(Availability portAvailability) {
        Availability a = availability(portAvailability);
        return new DeviceStatus(a.available(), a.reason(), played.sum(), dropped.sum(), Math.max(0, queued.get()),
                failures.sum());
    }

    private Availability availability(Availability portAvailability) {
        long since = playingSince;
        if (hung && since != 0) {
            return Availability.unavailable("play has not returned for "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since) + " ms");
        }
        String failure = lastFailure;
        if (failure != null) {
            return Availability.unavailable("play failed: " + failure);
        }
        return portAvailability;
    }

    @Override
    public String toString() {
        return "output lane of " + device;
    }
}
