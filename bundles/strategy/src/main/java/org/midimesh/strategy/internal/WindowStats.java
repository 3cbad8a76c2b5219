package org.midimesh.strategy.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.AtomicHistogram;
import org.HdrHistogram.Histogram;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;
import org.midimesh.common.metrics.QueryMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per strategy name, the figures of a sliding window: queries, contentions, stalls, errors and dropped messages (from
 * the strategies' own counters) and query latency (timed the same way for every strategy, one query in
 * {@value QueryMeter#SAMPLE_EVERY}, by the stable connections). Threads: the latency histograms are recorded into by
 * every querying thread (lock-free, see {@link QueryMeter}); {@link #sample} and {@link #figures} are called by the
 * manager's scheduler thread only; the result of {@link #figures} is immutable and read by anyone.
 * <p>A strategy's counters count since it started; a service that comes or goes (blue/green, a bundle update) would
 * make a plain difference jump, so each service's counters are followed on their own and only their increments are
 * added to its name's totals.
 */
final class WindowStats {

    private static final Logger LOG = LoggerFactory.getLogger(WindowStats.class);

    /** Counters of one name since the manager started. Immutable. */
    record Totals(long queries, long contentions, long stalls, long errors, long dropped) {
        static final Totals ZERO = new Totals(0, 0, 0, 0, 0);

        Totals plus(ConnectionMetrics now, ConnectionMetrics before) {
            return new Totals(queries + delta(now.totalQueries(), before == null ? 0 : before.totalQueries()),
                    contentions + delta(now.mutexContentions(), before == null ? 0 : before.mutexContentions()),
                    stalls + delta(now.stalls(), before == null ? 0 : before.stalls()),
                    errors + delta(now.errors(), before == null ? 0 : before.errors()),
                    dropped + delta(now.droppedMessages(), before == null ? 0 : before.droppedMessages()));
        }

        Totals minus(Totals o) {
            return new Totals(queries - o.queries, contentions - o.contentions, stalls - o.stalls, errors - o.errors,
                    dropped - o.dropped);
        }

        private static long delta(long now, long before) {
            return Math.max(0, now - before);
        }
    }

    /**
     * One name over the window.
     *
     * @param spanMs how much time the figures cover
     */
    record Figures(String name, long spanMs, Totals totals, LatencySummary latency) {
        double contentionPercent() {
            return totals.queries() == 0 ? 0.0 : 100.0 * totals.contentions() / totals.queries();
        }
    }

    /** What the counters and latency of every name were at one instant. */
    private record Sample(long nanos, Map<String, Totals> totals, Map<String, Histogram> latency) {
    }

    // Recorded into by querying threads through meters; a name's histogram is created once and never replaced.
    private final ConcurrentHashMap<String, AtomicHistogram> latency = new ConcurrentHashMap<>();
    // Scheduler thread only, from here down.
    private final Map<Slot, ConnectionMetrics> lastSeen = new IdentityHashMap<>();
    private final Map<String, Totals> totals = new HashMap<>();
    private final ArrayDeque<Sample> ring = new ArrayDeque<>();

    /** A meter for one connection on a strategy of {@code name}. Any thread. */
    QueryMeter meterFor(String name) {
        return QueryMeter.sharedOnly(latency.computeIfAbsent(name, n -> QueryMeter.newHistogram()));
    }

    /**
     * Reads every slot's counters and every name's latency now, and forgets samples the window no longer needs.
     * Scheduler thread only. A strategy whose {@code metrics()} throws is left out of this sample (logged at DEBUG).
     */
    void sample(long nowNanos, Iterable<Slot> slots, long windowMs) {
        Map<Slot, ConnectionMetrics> seen = new IdentityHashMap<>();
        for (Slot s : slots) {
            ConnectionMetrics m;
            try {
                m = s.strategy().metrics();
            } catch (RuntimeException e) {
                LOG.debug("strategy {}: metrics() failed; left out of this sample", s, e);
                continue;
            }
            if (m == null) {
                continue;
            }
            ConnectionMetrics before = lastSeen.get(s);
            totals.merge(s.name(), Totals.ZERO.plus(m, before), (a, b) -> new Totals(a.queries + b.queries,
                    a.contentions + b.contentions, a.stalls + b.stalls, a.errors + b.errors, a.dropped + b.dropped));
            seen.put(s, m);
        }
        lastSeen.keySet().retainAll(seen.keySet());
        lastSeen.putAll(seen);
        Map<String, Histogram> copies = new HashMap<>();
        latency.forEach((name, h) -> copies.put(name, h.copy()));
        ring.addLast(new Sample(nowNanos, Map.copyOf(totals), copies));
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMs);
        // Keep the newest sample at least a window old as the base, drop the ones before it.
        while (ring.size() > 2) {
            var it = ring.iterator();
            it.next();
            Sample second = it.next();
            if (nowNanos - second.nanos() >= windowNanos) {
                ring.removeFirst();
            } else {
                break;
            }
        }
    }

    /** Every name's figures between the oldest sample the window reaches and the newest. Scheduler thread only. */
    Map<String, Figures> figures(long windowMs) {
        Map<String, Figures> out = new HashMap<>();
        if (ring.isEmpty()) {
            return out;
        }
        Sample last = ring.peekLast();
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMs);
        Sample oldest = ring.peekFirst();
        for (Sample s : ring) { // the latest sample that still covers the whole window
            if (last.nanos() - s.nanos() >= windowNanos) {
                oldest = s;
            }
        }
        Sample base = oldest;
        long spanMs = TimeUnit.NANOSECONDS.toMillis(last.nanos() - base.nanos());
        for (Map.Entry<String, Totals> e : last.totals().entrySet()) {
            String name = e.getKey();
            Totals t = e.getValue().minus(base.totals().getOrDefault(name, Totals.ZERO));
            out.put(name, new Figures(name, spanMs, t, delta(last.latency().get(name), base.latency().get(name))));
        }
        last.latency().forEach((name, h) -> out.computeIfAbsent(name, n -> new Figures(n, spanMs, Totals.ZERO,
                delta(h, base.latency().get(n)))));
        return out;
    }

    private static LatencySummary delta(Histogram now, Histogram before) {
        if (now == null) {
            return LatencySummary.EMPTY;
        }
        Histogram d = now.copy();
        if (before != null) {
            try {
                d.subtract(before);
            } catch (IllegalArgumentException e) {
                return QueryMeter.summarize(now); // cannot happen with one fixed range; be safe
            }
        }
        return QueryMeter.summarize(d);
    }
}
