package org.midimesh.example.sync;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;

/**
 * The durations of a random sample of queries (about one in {@value #EVERY}), kept in a ring of the last
 * {@value #SIZE}, for {@link org.midimesh.api.connection.ConnectionMetrics#queryLatency()}. Thread-safe and
 * lock-free: any querying thread records, any thread summarizes.
 * <p>Why a strategy measures at all: the strategy manager times every query itself for its canary policy, but
 * {@code NetworkConnection.metrics()} passes the engine's own metrics through, and the contract suite expects
 * samples there.
 */
final class LatencySamples {

    /** Ring size; a power of two. */
    static final int SIZE = 1024;
    /** About one query in this many is timed. */
    static final int EVERY = 64;

    private final AtomicLongArray ring = new AtomicLongArray(SIZE);
    // Samples recorded so far; getAndIncrement picks the slot. A reader may see the count before the slot is written
    // and then reads that slot's older value (or 0): a harmless skew of one sample in a summary. Orders nothing else.
    private final AtomicLong recorded = new AtomicLong();

    /** Whether the calling thread should time the query it is starting. */
    static boolean pick() {
        return ThreadLocalRandom.current().nextInt(EVERY) == 0;
    }

    void record(long nanos) {
        long i = recorded.getAndIncrement();
        ring.set((int) (i & (SIZE - 1)), nanos);
    }

    /** Percentiles of the samples in the ring; the count is every sample recorded. */
    LatencySummary summary() {
        long count = recorded.get();
        if (count == 0) {
            return LatencySummary.EMPTY;
        }
        int k = (int) Math.min(count, SIZE);
        long[] v = new long[k];
        for (int i = 0; i < k; i++) {
            v[i] = ring.get(i);
        }
        Arrays.sort(v);
        return new LatencySummary(count, percentile(v, 0.50), percentile(v, 0.99), percentile(v, 0.999), v[k - 1]);
    }

    private static long percentile(long[] sorted, double q) {
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
