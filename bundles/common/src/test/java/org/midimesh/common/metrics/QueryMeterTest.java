package org.midimesh.common.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.AtomicHistogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;
import org.midimesh.api.test.DeadlockWatchdog;

@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QueryMeterTest {

    private final AtomicHistogram strategy = QueryMeter.newHistogram();
    private final QueryMeter meter = new QueryMeter(strategy);

    @Test
    void shouldTimeExactlyOneQueryInSampleEveryOnOneThread() {
        int timed = 0;
        for (int i = 0; i < 100 * QueryMeter.SAMPLE_EVERY; i++) {
            long t0 = meter.start();
            if (t0 != QueryMeter.NOT_TIMED) {
                timed++;
            }
            meter.end(t0);
        }
        assertEquals(100 * QueryMeter.SAMPLE_EVERY, meter.queries());
        assertEquals(100, timed);
        assertEquals(100, meter.latency().count());
        assertEquals(100, strategy.getTotalCount(), "every sample also goes to the strategy's histogram");
    }

    @Test
    void shouldTimeTheFirstQueryOfEachThread() throws Exception {
        for (int t = 0; t < 3; t++) {
            Thread th = new Thread(() -> meter.end(meter.start()));
            th.start();
            th.join();
        }
        assertEquals(3, meter.queries());
        assertEquals(3, meter.latency().count(), "a connection queried now and then still gets samples");
    }

    @Test
    void shouldCountEveryQueryOfManyMoreThreadsThanCells() throws Exception {
        // Three times as many threads as cells: most slots are contended, so the shared counter is exercised too.
        int threads = 3 * QueryMeter.CELLS;
        int each = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                awaitQuietly(go);
                for (int i = 0; i < each; i++) {
                    meter.end(meter.start());
                }
            }, "query-meter-test-" + t);
            th.start();
            all.add(th);
        }
        go.countDown();
        AtomicLong last = new AtomicLong();
        while (all.stream().anyMatch(Thread::isAlive)) {
            long now = meter.queries();
            assertTrue(now >= last.get(), "total went back from " + last.get() + " to " + now);
            last.set(now);
            Thread.onSpinWait();
        }
        for (Thread th : all) {
            th.join();
        }
        assertEquals((long) threads * each, meter.queries(), "every query counted once");
    }

    @Test
    void shouldKeepTheCountOfATerminatedThreadWhenANewThreadTakesItsCell() throws Exception {
        long before = 0;
        // Many short-lived threads in a row: once every cell has an owner that has terminated, a new thread counts in
        // the shared adder until it adopts one of them. The total must carry on exactly either way.
        int rounds = 4 * QueryMeter.CELLS;
        int each = 1_000;
        for (int round = 0; round < rounds; round++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    meter.end(meter.start());
                }
            });
            th.start();
            th.join();
            long now = meter.queries();
            assertEquals(before + each, now);
            before = now;
        }
        // Without adoption, every thread after the first 16 would count all its queries in the shared adder (75 %).
        assertTrue(meter.sharedQueries() < (long) rounds * each / 4, meter.sharedQueries() + " shared of "
                + (long) rounds * each + ": terminated threads' cells are not taken over");
    }

    @Test
    void shouldCountWithoutTimingAndClampSamples() {
        meter.count();
        meter.record(1_000);
        meter.record(-5);
        meter.record(Long.MAX_VALUE);
        LatencySummary s = meter.latency();
        assertEquals(3, meter.latency().count());
        assertEquals(1, meter.queries(), "record() alone counts no query");
        assertTrue(s.maxNs() >= QueryMeter.HIGHEST_NANOS && s.maxNs() <= QueryMeter.HIGHEST_NANOS * 101 / 100, s.toString());
    }

    @Test
    void shouldSummarizeInOrderAndEmptyAsEmpty() {
        assertEquals(LatencySummary.EMPTY, QueryMeter.summarize(QueryMeter.newHistogram()));
        AtomicHistogram h = QueryMeter.newHistogram();
        for (int i = 1; i <= 1000; i++) {
            h.recordValue(i * 1000L);
        }
        LatencySummary s = QueryMeter.summarize(h);
        assertEquals(1000, s.count());
        assertTrue(s.p50Ns() <= s.p99Ns() && s.p99Ns() <= s.p999Ns() && s.p999Ns() <= s.maxNs(), s.toString());
        assertTrue(Math.abs(s.p50Ns() - 500_000) <= 500_000 / 50, s.toString());
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
