package org.midimesh.common.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;

/**
 * Counts the queries of one connection exactly and times one in {@value #SAMPLE_EVERY} of them into HdrHistograms (the
 * connection's and its strategy's). Thread-safe: every querying thread calls {@link #start}/{@link #end}; metric
 * readers call {@link #queries} and {@link #latency}. Used by both strategies, so their numbers mean the same.
 *
 * <h2>Why per-thread cells</h2>
 * The uncontended targets are getState at most 5 ns and getRemoteDevices at most 50 ns, and a snapshot query is one
 * volatile read (under 1 ns here). One atomic read-modify-write (a {@code LongAdder} or {@code getAndAdd}) costs about
 * 3 to 4 ns on this hardware even with no other thread near it, and a {@code ThreadLocal} lookup as much. So each
 * thread counts in a cell of its own, found by its thread id in a small table (or, for the thread that queries most,
 * in one field checked first), and written with a plain store that only that thread makes (single writer: no lost
 * updates, no atomic instruction). A thread whose {@value #PROBES} possible slots other live threads hold counts in a
 * shared {@link LongAdder} instead: exact, just slower. The cell's count also picks the queries to time, so sampling
 * needs no second counter.
 * <p>A cell whose owner thread has terminated is adopted by a thread counting in the shared adder that finds it: the
 * count carries on, so totals never go backwards. Termination detected through {@link Thread#isAlive()}
 * happens-before the adopter's reads (JLS 17.4.4), and the adopter takes ownership by CAS, so a cell always has one
 * writer.
 *
 * <h2>Histograms</h2>
 * Fixed-range {@link AtomicHistogram}s: recording is a few atomic increments from any thread, never takes a lock,
 * never resizes and never waits (HdrHistogram's auto-resizing histograms lock to resize, and its packed concurrent one
 * spun for minutes under contention in the contract stress tests). Readers run beside recording without a lock: a
 * reading may miss samples recorded meanwhile, never sees a torn count.
 */
public final class QueryMeter {

    /** One query in this many is timed: two {@link System#nanoTime()} reads cost several times a snapshot query. */
    public static final int SAMPLE_EVERY = 64;
    /** What {@link #start} returns for a query that is not timed. */
    public static final long NOT_TIMED = Long.MIN_VALUE;
    /** Two significant digits: 1 % resolution is plenty for percentiles and keeps a histogram at about 29 KB. */
    public static final int SIGNIFICANT_DIGITS = 2;
    /** Longest latency told apart (10 s); longer samples count as this. A fixed range: recording never resizes. */
    public static final long HIGHEST_NANOS = 10_000_000_000L;

    /** Cells per meter; a power of two. Thread ids are handed out in sequence, so 16 threads in a row never collide. */
    static final int CELLS = 16;
    private static final int SAMPLE_MASK = SAMPLE_EVERY - 1;
    /** Table-path queries after which a thread makes its cell the {@code hot} one. */
    static final int PROMOTE_AFTER = 64;
    /** Slots a thread may use, from the one its id picks; beyond them it counts in the shared adder. */
    static final int PROBES = 4;
    /** A shared-adder query looks for a terminated owner's cell once in this many (on average). */
    private static final int ADOPT_MASK = 63;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Cell[].class);
    private static final VarHandle COUNT;
    private static final VarHandle OWNER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            COUNT = lookup.findVarHandle(Cell.class, "count", long.class);
            OWNER = lookup.findVarHandle(Cell.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One thread's count. Written only by {@link #owner}; read by metric readers with opaque reads. */
    static final class Cell {
        // The writing thread. Changed only by CAS, from a terminated thread to its adopter; read (plain) on the fast
        // path, where only the current thread's own CAS could have made it equal to the current thread. Keeps an
        // ended thread's Thread object reachable until the cell is adopted: at most CELLS of them per meter.
        Thread owner;
        // Queries counted here. Single writer (the owner): a plain read plus an opaque store, so a concurrent
        // reader sees whole values that only grow (opaque access is coherent per variable); orders nothing else.
        long count;
        // Queries the owner counted through the table since it last made this cell {@code hot}. Owner only.
        int misses;

        Cell(Thread owner) {
            this.owner = owner;
        }
    }

    // Slots published by CAS (null -> cell) and read with acquire, so a reader sees the cell's initial fields.
    private final Cell[] cells = new Cell[CELLS];
    // The cell of the thread that queries most, checked before the table (one load and one compare instead of the
    // slot lookup: a third of the 5 ns budget). A hint only, so a plain field: written racily by a thread that took the
    // table path PROMOTE_AFTER times in a row, read by all; whatever it holds, the owner check decides, and only the
    // owner ever sees itself there (a live thread's cell is never adopted). With two threads alternating it changes
    // hands once per PROMOTE_AFTER queries, not on every one.
    private Cell hot;
    // Queries of threads whose slots other live threads hold. A counter only; orders nothing.
    private final LongAdder shared = new LongAdder();
    // This meter's own samples; null for a meter made by sharedOnly.
    private final AtomicHistogram histogram;
    private final AtomicHistogram strategyHistogram;

    /** @param strategyHistogram the strategy-wide histogram every sample is also recorded in */
    public QueryMeter(AtomicHistogram strategyHistogram) {
        this(newHistogram(), strategyHistogram);
    }

    private QueryMeter(AtomicHistogram own, AtomicHistogram shared) {
        this.histogram = own;
        this.strategyHistogram = shared;
    }

    /**
     * A meter that records its samples only into {@code shared} (no histogram of its own: {@link #latency()} is
     * empty), for a caller that meters many short-lived things into one histogram.
     */
    public static QueryMeter sharedOnly(AtomicHistogram shared) {
        return new QueryMeter(null, shared);
    }

    /**
     * Counts one query. Returns its start time if this query is one to time (pass it to {@link #end}), else
     * {@link #NOT_TIMED}.
     */
    public long start() {
        // A thread's 1st, 65th, 129th... query: the first one too, so a connection queried now and then by many
        // threads (HTTP, mesh, heartbeat) has samples early instead of after 64 queries of each thread.
        return (tick() & SAMPLE_MASK) == 1 ? System.nanoTime() : NOT_TIMED;
    }

    /** Counts one query that the caller times itself through {@link #record} (rare, slow ones). */
    public void count() {
        tick();
    }

    /** Ends a query begun by {@link #start}; records its latency if it was timed. */
    public void end(long startNanos) {
        if (startNanos != NOT_TIMED) {
            record(System.nanoTime() - startNanos);
        }
    }

    /** Records one latency sample in nanoseconds (negative readings count as 0, longer ones as the maximum). */
    public void record(long nanos) {
        long v = Math.min(Math.max(0, nanos), HIGHEST_NANOS);
        if (histogram != null) {
            histogram.recordValue(v);
        }
        strategyHistogram.recordValue(v);
    }

    /** Queries counted so far. Never decreases between two calls; exact once the querying threads are joined. */
    public long queries() {
        long sum = shared.sum();
        for (int i = 0; i < CELLS; i++) {
            Cell c = (Cell) SLOT.getAcquire(cells, i);
            if (c != null) {
                sum += (long) COUNT.getOpaque(c);
            }
        }
        return sum;
    }

    /** Queries counted in the shared adder (for tests). */
    long sharedQueries() {
        return shared.sum();
    }

    /** The latency percentiles of the samples so far ({@link LatencySummary#EMPTY} for a shared-only meter). */
    public LatencySummary latency() {
        return histogram == null ? LatencySummary.EMPTY : summarize(histogram);
    }

    /** Counts one query; returns a number whose low bits pick the queries to time. */
    private long tick() {
        Thread me = Thread.currentThread();
        Cell c = hot;
        if (c != null && c.owner == me) {
            long n = c.count + 1;
            COUNT.setOpaque(c, n);
            return n;
        }
        return tickInTable(me);
    }

    /** Not the hot thread: its cell in the table, in one of {@value #PROBES} slots from the one its id picks. */
    private long tickInTable(Thread me) {
        int base = (int) me.getId();
        for (int i = 0; i < PROBES; i++) {
            int slot = (base + i) & (CELLS - 1);
            Cell c = (Cell) SLOT.getAcquire(cells, slot);
            if (c == null) {
                Cell mine = new Cell(me);
                mine.count = 1;
                if (SLOT.compareAndSet(cells, slot, null, mine)) {
                    return 1;
                }
                c = (Cell) SLOT.getAcquire(cells, slot);
            }
            if (c.owner == me) {
                long n = c.count + 1;
                COUNT.setOpaque(c, n);
                if (++c.misses >= PROMOTE_AFTER) {
                    c.misses = 0;
                    hot = c;
                }
                return n;
            }
        }
        return tickShared(me, base);
    }

    /**
     * Every slot the thread may use belongs to another thread: count in the shared adder. Now and then (Thread.isAlive
     * is a native call) look for a slot whose owner has terminated, and take it over for the following queries.
     */
    private long tickShared(Thread me, int base) {
        shared.increment();
        int r = ThreadLocalRandom.current().nextInt();
        if ((r & ADOPT_MASK) == 0) {
            for (int i = 0; i < PROBES; i++) {
                Cell c = (Cell) SLOT.getAcquire(cells, (base + i) & (CELLS - 1));
                Thread owner = (Thread) OWNER.getAcquire(c);
                if (!owner.isAlive() && OWNER.compareAndSet(c, owner, me)) {
                    break;
                }
            }
        }
        return r;
    }

    /** A histogram for one connection, or for a strategy's totals. */
    public static AtomicHistogram newHistogram() {
        return new AtomicHistogram(1, HIGHEST_NANOS, SIGNIFICANT_DIGITS);
    }

    /**
     * The percentiles of {@code h}, kept in order (p50 &lt;= p99 &lt;= p99.9 &lt;= max) despite bucket rounding and
     * samples recorded while reading; {@link LatencySummary#EMPTY} without samples.
     */
    public static LatencySummary summarize(AbstractHistogram h) {
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
