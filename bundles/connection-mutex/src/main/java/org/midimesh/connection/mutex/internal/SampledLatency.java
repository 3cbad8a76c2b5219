package org.midimesh.connection.mutex.internal;

import java.util.concurrent.locks.ReentrantLock;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;

/**
 * Query latencies of one connection in nanoseconds, for the percentiles of the metrics. Recording is wait-free (an
 * HdrHistogram {@link Recorder}); callers sample, so it costs nothing on most queries. Reading drains the recorder into
 * a running total under a small lock of its own, taken only by metric readers and never while calling out.
 * Thread-safe.
 */
final class SampledLatency {

    /** Two significant digits: 1 % resolution, about 20 KB per histogram at the latencies we see. */
    static final int SIGNIFICANT_DIGITS = 2;

    private final Recorder recorder = new Recorder(SIGNIFICANT_DIGITS);
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock: every sample drained so far.
    private final Histogram total = new Histogram(SIGNIFICANT_DIGITS);
    // Guarded by lock: the recycled interval histogram.
    private Histogram interval;

    /** Records one sample; wait-free. Negative readings (clock quirks) count as 0. */
    void record(long nanos) {
        recorder.recordValue(Math.max(0, nanos));
    }

    /** Adds every sample so far into {@code target}, which the caller owns. */
    void addTo(Histogram target) {
        lock.lock();
        try {
            drain();
            target.add(total);
        } finally {
            lock.unlock();
        }
    }

    LatencySummary summary() {
        lock.lock();
        try {
            drain();
            return summarize(total);
        } finally {
            lock.unlock();
        }
    }

    private void drain() {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
    }

    static Histogram newHistogram() {
        return new Histogram(SIGNIFICANT_DIGITS);
    }

    /** p50, p99, p99.9 and max of {@code h}, kept in order despite the histogram's bucket rounding. */
    static LatencySummary summarize(Histogram h) {
        long count = h.getTotalCount();
        if (count == 0) {
            return LatencySummary.EMPTY;
        }
        long max = h.getMaxValue();
        long p999 = Math.min(h.getValueAtPercentile(99.9), max);
        long p99 = Math.min(h.getValueAtPercentile(99.0), p999);
        long p50 = Math.min(h.getValueAtPercentile(50.0), p99);
        return new LatencySummary(count, p50, p99, p999, max);
    }
}
