package org.midimesh.connection.seda.internal;

import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;

/**
 * Counts one connection's queries and times a sample of them into an HdrHistogram (and into the strategy's). Thread-safe;
 * called by every querying thread.
 * <p>Every query is counted; only one in {@value #SAMPLE_EVERY} is timed, because two {@link System#nanoTime()} reads
 * cost several times the query itself (the snapshot queries are one volatile read, and the benchmark targets are
 * getState at most 5 ns and getRemoteDevices at most 50 ns uncontended). Queries that go through the worker
 * ({@link SedaNetworkConnection#inspectAsync()}) are rare and slow, and are all timed.
 */
final class QueryMeter {

    /** One query in this many is timed. A power of two. */
    static final int SAMPLE_EVERY = 64;
    private static final int SAMPLE_MASK = SAMPLE_EVERY - 1;
    /** Two significant digits: 1% resolution is plenty for latency percentiles and keeps the histograms small. */
    static final int SIGNIFICANT_DIGITS = 2;
    /** Longest latency told apart (10 s); longer samples count as this. A fixed range: recording never resizes. */
    static final long HIGHEST_NANOS = 10_000_000_000L;

    // Counter only: each increment and the sum read by metrics order nothing else.
    private final LongAdder queries = new LongAdder();
    // Picks the queries to time. Deliberately a plain field: concurrent increments may be lost, which only shifts which
    // queries get timed (a harmless race, as JCTools would say); it costs no atomic instruction on the query path.
    private int tick;
    // Atomic counts over a fixed range (about 29 KB): recording is a few atomic increments from any thread and never
    // takes a lock, never resizes and never waits (HdrHistogram's auto-resizing histograms take a lock to resize, and
    // its packed concurrent one can spin for minutes under contention, both seen in the contract stress tests). Reads
    // run beside recording without a lock: a reading may miss samples recorded meanwhile, never sees a torn count.
    private final AtomicHistogram histogram = newHistogram();
    private final AtomicHistogram strategyHistogram;

    /** @param strategyHistogram the strategy-wide histogram every sample is also recorded in */
    QueryMeter(AtomicHistogram strategyHistogram) {
        this.strategyHistogram = strategyHistogram;
    }

    /** Counts a query; true when this one should be timed. */
    boolean countAndSample() {
        queries.increment();
        return (++tick & SAMPLE_MASK) == 0;
    }

    /** Counts a query that is always timed (worker queries). */
    void count() {
        queries.increment();
    }

    void record(long nanos) {
        long v = Math.min(Math.max(0, nanos), HIGHEST_NANOS);
        histogram.recordValue(v);
        strategyHistogram.recordValue(v);
    }

    long queries() {
        return queries.sum();
    }

    LatencySummary latency() {
        return summarize(histogram);
    }

    /**
     * The percentiles of {@code h}, kept in order (p50 &lt;= p99 &lt;= p99.9 &lt;= max) despite bucket rounding and
     * samples recorded while reading; {@link LatencySummary#EMPTY} without samples.
     */
    static LatencySummary summarize(AbstractHistogram h) {
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

    /** A histogram for one connection, or for a strategy's totals. */
    static AtomicHistogram newHistogram() {
        return new AtomicHistogram(1, HIGHEST_NANOS, SIGNIFICANT_DIGITS);
    }
}
