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
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery of one local output: a bounded queue of batches and at most one task on the delivery pool that plays
 * them on the port, in order, one {@code play} at a time. Whoever offers (the transport's receive thread, an HTTP
 * thread, a local input's thread) only queues and returns, so a slow or hung port delays nobody else.
 * <p>A port that promises its {@code play} returns at once ({@link ImmediatePlay}) is played by the offering thread
 * itself when nothing is queued and no play runs: no hand-off, no wake-up of a delivery thread. The first such play
 * that takes longer than the inline limit ends that for good on this lane ({@link #inline}).
 * <p>Threads: {@link #offer} on any thread; {@link #drain} on a delivery-pool thread; at most one of them plays at a
 * time (whoever set the {@link #scheduled} flag); {@link #checkHung} on the registry's watchdog thread;
 * {@link #status} on any thread. No lock: the queue is concurrent, the counters are adders or atomics.
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
    /** A play on the offering thread that takes longer than this ends inline play on this lane. */
    private final long inlineLimitNanos;

    private final ConcurrentLinkedQueue<Batch> queue = new ConcurrentLinkedQueue<>();
    // Messages in the queue. Reserved by offer before it adds a batch (so the bound holds under races) and released by
    // drain after it polls one; a counter only, the queue itself publishes the batches.
    private final AtomicInteger queued = new AtomicInteger();
    // True while a drain task is submitted or running, or an offering thread plays inline: whoever set it is the
    // lane's only player. Set by offer (compareAndSet false->true, then submit or play inline), cleared by that drain
    // when it found the queue empty, or by the inline player after its play, after which each looks once more: an
    // offer that lost the race to set it has added its batch before trying, so either the player's second look or the
    // offer's own submit plays it. The CAS and the clear are the hand-over of the port between players: the clear
    // publishes everything the last play did to the next player.
    private final AtomicBoolean scheduled = new AtomicBoolean();
    // True while offering threads may play (the port is an ImmediatePlay and has kept its promise). Set at
    // construction; cleared, never set again, by the inline player whose play overran the limit or by the watchdog
    // when an inline play hangs. Read by offer; volatile so offers stop playing inline promptly (nothing rides on it).
    private volatile boolean inline;
    private final LongAdder played = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder failures = new LongAdder();
    // System.nanoTime() when the running play started, 0 when none runs. Written by the player around each play, read
    // by the watchdog; volatile so the watchdog sees a play start and end promptly (no other data rides on it).
    private volatile long playingSince;
    // The thread of the running play, for the watchdog's message; written by the player just before playingSince
    // (whose volatile write publishes it), cleared after. Never used but to print its name.
    private volatile Thread player;
    // True from the watchdog finding a play over the hang limit until that play returns. Written by the watchdog
    // (set) and the drain thread (clear); read by offer to drop at once instead of queueing behind a hung call.
    private volatile boolean hung;
    // The last play failure, for a person; null after a play succeeds. Written by the drain thread, read by status.
    private volatile String lastFailure;
    // Set once when the device goes (its port was removed or the registry closed); read by offer and drain.
    private volatile boolean closed;

    /**
     * @param inlineLimitNanos when above 0 and the port is an {@link ImmediatePlay}, offering threads play it when the
     *                         lane is idle, until one such play takes longer than this
     */
    OutputLane(LocalDevice device, MidiPort port, String origin, Executor pool, int capacity, long inlineLimitNanos) {
        this.device = device;
        this.port = port;
        this.origin = origin;
        this.pool = pool;
        this.capacity = capacity;
        this.inlineLimitNanos = inlineLimitNanos;
        this.inline = inlineLimitNanos > 0 && port instanceof ImmediatePlay;
    }

    /** Whether offering threads may still play this port themselves. */
    boolean playsInline() {
        return inline;
    }

    MidiPort port() {
        return port;
    }

    /**
     * Plays the batch on this thread when the port plays inline and the lane is idle; otherwise queues it, or drops and
     * counts it when the lane is closed, hung or full. Blocks only as long as an inline play takes.
     */
    boolean offer(List<MidiMessage> messages, NodeId source) {
        int n = messages.size();
        if (closed || hung) {
            dropped.add(n);
            return false;
        }
        if (inline && queue.isEmpty() && scheduled.compareAndSet(false, true)) {
            // This thread is the lane's player now.
            if (queue.isEmpty()) {
                playInline(new Batch(messages, source));
                return true;
            }
            // Another offer queued between the two looks and waits for a player: hand the role to a drain task, and
            // queue behind that batch below.
            submit();
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
            submit();
        }
    }

    /** Starts a drain task; the caller has set {@link #scheduled}. */
    private void submit() {
        try {
            pool.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // The pool is shut down: the registry is closing. Whatever is queued is dropped.
            scheduled.set(false);
            close();
        }
    }

    /** Plays one batch on the offering thread, which has set {@link #scheduled}; then gives the role back. */
    private void playInline(Batch b) {
        long took = closed ? 0 : playOne(b);
        if (closed) {
            dropped.add(b.messages().size());
        }
        if (took > inlineLimitNanos && inline) {
            inline = false;
            LOG.warn("{} ({}): play took {} µs on the thread that delivered the messages ({}), though the port"
                    + " promises to return at once (ImmediatePlay); from now on it is played on its delivery thread",
                    device, origin, TimeUnit.NANOSECONDS.toMicros(took), Thread.currentThread().getName());
        }
        scheduled.set(false);
        // Offers that came while this play ran queued their batches and left them to this player.
        if (!queue.isEmpty()) {
            schedule();
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

    /** Plays one batch, counting and logging a failure; returns how long the play took, in nanoseconds. */
    private long playOne(Batch b) {
        long start = System.nanoTime();
        player = Thread.currentThread();
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
            player = null;
            if (hung) {
                hung = false;
                LOG.warn("{} ({}): play returned after {} ms; its messages are played again", device, origin,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        }
        return System.nanoTime() - start;
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
        Thread on = player;
        inline = false;
        int gone = 0;
        Batch b;
        while ((b = queue.poll()) != null) {
            queued.addAndGet(-b.messages().size());
            dropped.add(b.messages().size());
            gone += b.messages().size();
        }
        LOG.error("{} ({}): play has not returned for {} ms{}; the device is unavailable and its messages are dropped"
                + " until it returns ({} dropped now)", device, origin, TimeUnit.NANOSECONDS.toMillis(now - since),
                (on == null ? "" : " on thread " + on.getName())
                        + (port instanceof ImmediatePlay ? " (the port promised to return at once)" : ""), gone);
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
