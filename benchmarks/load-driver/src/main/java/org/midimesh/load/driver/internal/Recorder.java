package org.midimesh.load.driver.internal;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import org.midimesh.api.midi.MidiMessage;
import org.midimesh.load.driver.LoadCodec;

/**
 * What the output {@code Load Rec} played: for each message that carries a sequence number, the number and when it
 * arrived, in arrival order, in growable primitive arrays (no boxing); and how many foreign messages came. Thread-safe.
 * <p>Threads and the lock: {@link #record} runs on whichever thread plays the output (one call at a time; the thread
 * that delivered the messages, or the output's delivery thread); {@link #reset} and {@link #snapshot} on ConfigAdmin's
 * thread (a new run, a collect). All three take {@link #lock}, and hold it only
 * to append, to clear, or to copy the arrays: {@code record} for the few messages of one play, {@code snapshot} for
 * one array copy (a few milliseconds for a million arrivals, the longest a play can wait). Nothing is called under
 * it: no sink, no logging, no I/O; the snapshot is written to its file after the lock is released.
 */
final class Recorder {

    static final int INITIAL_CAPACITY = 1 << 16;
    /** The most arrivals kept (12 bytes each); more are counted as {@link Snapshot#overflow()} and not kept. */
    static final int MAX_ARRIVALS = 4 * LoadCodec.SEQUENCES;

    /** What was recorded until a moment: copies, owned by the caller. Count is {@code seqs.length}. */
    record Snapshot(int[] seqs, long[] arrivalNanos, long foreign, long overflow) {
        int count() {
            return seqs.length;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final int initialCapacity;
    private final int maxArrivals;

    // All four written and read under lock only: by the delivery thread (record) and ConfigAdmin's thread (reset,
    // snapshot). The lock's release publishes them; seqs and arrivals are never handed out, only copies of them.
    private int[] seqs;
    private long[] arrivals;
    private int count;
    private long foreign;
    private long overflow;

    Recorder() {
        this(INITIAL_CAPACITY, MAX_ARRIVALS);
    }

    /** For tests: small arrays, a small limit. */
    Recorder(int initialCapacity, int maxArrivals) {
        if (initialCapacity < 1 || maxArrivals < initialCapacity) {
            throw new IllegalArgumentException("capacity " + initialCapacity + ", limit " + maxArrivals);
        }
        this.initialCapacity = initialCapacity;
        this.maxArrivals = maxArrivals;
        this.seqs = new int[initialCapacity];
        this.arrivals = new long[initialCapacity];
    }

    /** Records the messages of one play, all arrived at {@code arrivalNanos}. Decodes before taking the lock. */
    void record(List<MidiMessage> messages, long arrivalNanos) {
        int n = messages.size();
        int[] decoded = new int[n];
        for (int i = 0; i < n; i++) {
            decoded[i] = LoadCodec.decode(messages.get(i));
        }
        lock.lock();
        try {
            for (int seq : decoded) {
                if (seq == LoadCodec.FOREIGN) {
                    foreign++;
                } else if (count == maxArrivals) {
                    overflow++;
                } else {
                    if (count == seqs.length) {
                        grow();
                    }
                    seqs[count] = seq;
                    arrivals[count] = arrivalNanos;
                    count++;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void grow() { // under lock
        int capacity = (int) Math.min(maxArrivals, 2L * seqs.length);
        seqs = Arrays.copyOf(seqs, capacity);
        arrivals = Arrays.copyOf(arrivals, capacity);
    }

    /** Forgets everything recorded, and gives back the memory of a large run. */
    void reset() {
        reset(0);
    }

    /**
     * Forgets everything recorded and makes room for {@code expected} arrivals (at most the limit) at once, so that
     * {@link #record} does not copy growing arrays during the run: it may be called on a network thread
     * ({@code LoadRecPort} is an {@code ImmediatePlay} port).
     */
    void reset(long expected) {
        int capacity = (int) Math.max(initialCapacity, Math.min(maxArrivals, expected));
        lock.lock();
        try {
            seqs = new int[capacity];
            arrivals = new long[capacity];
            count = 0;
            foreign = 0;
            overflow = 0;
        } finally {
            lock.unlock();
        }
    }

    Snapshot snapshot() {
        lock.lock();
        try {
            return new Snapshot(Arrays.copyOf(seqs, count), Arrays.copyOf(arrivals, count), foreign, overflow);
        } finally {
            lock.unlock();
        }
    }

    /** For tests: the length of the arrays now. */
    int capacity() {
        lock.lock();
        try {
            return seqs.length;
        } finally {
            lock.unlock();
        }
    }
}
