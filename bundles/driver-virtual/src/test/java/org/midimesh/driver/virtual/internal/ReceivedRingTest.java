package org.midimesh.driver.virtual.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.virtual.ReceivedLog.Page;
import org.midimesh.api.virtual.ReceivedLog.Received;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.DeadlockWatchdog;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReceivedRingTest {

    private static final NodeId SOURCE = NodeId.random();

    /** A note-on whose channel, note and velocity encode {@code i} (0..262143), so every message is distinct. */
    static MidiMessage msg(int i) {
        if (i < 0 || i >= 1 << 18) {
            throw new IllegalArgumentException("out of range: " + i);
        }
        return MidiMessage.of((byte) (0x90 | (i >> 14)), (byte) ((i >> 7) & 0x7f), (byte) (i & 0x7f));
    }

    static int decode(MidiMessage m) {
        return ((m.status() & 0x0f) << 14) | (m.byteAt(1) << 7) | m.byteAt(2);
    }

    private static List<MidiMessage> msgs(int from, int count) {
        List<MidiMessage> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(msg(i));
        }
        return out;
    }

    @Test
    void shouldNumberFromOneAndPageWithNext() {
        ReceivedRing ring = new ReceivedRing(16);
        ring.append(msgs(0, 5), SOURCE, 42);

        Page first = ring.read(0, 2);
        assertEquals(5, first.total());
        assertEquals(2, first.next());
        assertEquals(List.of(1L, 2L), first.messages().stream().map(Received::seq).toList());
        assertEquals(msg(0), first.messages().get(0).message());
        assertEquals(SOURCE, first.messages().get(0).sourceNode());
        assertEquals(42, first.messages().get(0).receivedAtMicros());

        Page second = ring.read(first.next(), 10);
        assertEquals(List.of(3L, 4L, 5L), second.messages().stream().map(Received::seq).toList());
        assertEquals(5, second.next());

        Page none = ring.read(second.next(), 10);
        assertTrue(none.messages().isEmpty());
        assertEquals(5, none.next(), "next stays at after when nothing is returned");
        assertEquals(5, none.total());
    }

    @Test
    void shouldAnswerAnEmptyLog() {
        Page p = new ReceivedRing(4).read(0, 10);
        assertEquals(0, p.total());
        assertEquals(0, p.next());
        assertTrue(p.messages().isEmpty());
    }

    @Test
    void shouldReturnNothingWithLimitZeroButTellTotal() {
        ReceivedRing ring = new ReceivedRing(4);
        ring.append(msgs(0, 3), SOURCE, 0);
        Page p = ring.read(1, 0);
        assertEquals(3, p.total());
        assertEquals(1, p.next());
        assertTrue(p.messages().isEmpty());
    }

    @Test
    void shouldKeepOnlyTheNewestWhenItWraps() {
        ReceivedRing ring = new ReceivedRing(8);
        for (int i = 0; i < 20; i++) {
            ring.append(List.of(msg(i)), SOURCE, i);
        }
        Page p = ring.read(0, 100);
        assertEquals(20, p.total());
        assertEquals(LongStream.rangeClosed(13, 20).boxed().toList(), p.messages().stream().map(Received::seq).toList());
        assertEquals(msg(12), p.messages().get(0).message());
        assertEquals(20, p.next());
        // A reader that fell behind resumes at the oldest kept message.
        assertEquals(13, ring.read(5, 1).messages().get(0).seq());
    }

    @Test
    void shouldKeepTheTailOfABatchLargerThanTheRing() {
        ReceivedRing ring = new ReceivedRing(4);
        ring.append(msgs(0, 10), SOURCE, 0);
        Page p = ring.read(0, 100);
        assertEquals(10, p.total());
        assertEquals(List.of(7L, 8L, 9L, 10L), p.messages().stream().map(Received::seq).toList());
        assertEquals(msg(9), p.messages().get(3).message());
    }

    @Test
    void shouldKeepTheNewest65536AtTheRealCapacity() {
        ReceivedRing ring = new ReceivedRing(ReceivedLog.CAPACITY);
        int extra = 100;
        int played = ReceivedLog.CAPACITY + extra;
        for (int start = 0; start < played; start += 1000) {
            int n = Math.min(1000, played - start);
            List<MidiMessage> batch = new ArrayList<>(n);
            for (int i = start; i < start + n; i++) {
                batch.add(msg(i));
            }
            ring.append(batch, SOURCE, 0);
        }
        Page all = ring.read(0, Integer.MAX_VALUE);
        assertEquals(played, all.total());
        assertEquals(ReceivedLog.CAPACITY, all.messages().size(), "limit is capped at the capacity");
        assertEquals(extra + 1, all.messages().get(0).seq());
        assertEquals(played, all.next());
        assertEquals(msg(extra), all.messages().get(0).message());
        for (int i = 1; i < all.messages().size(); i++) {
            assertEquals(all.messages().get(i - 1).seq() + 1, all.messages().get(i).seq());
        }
    }

    @Test
    void shouldReturnNothingAfterTheNewest() {
        ReceivedRing ring = new ReceivedRing(4);
        ring.append(msgs(0, 3), SOURCE, 0);
        Page p = ring.read(Long.MAX_VALUE, 10);
        assertTrue(p.messages().isEmpty());
        assertEquals(Long.MAX_VALUE, p.next());
        assertEquals(3, p.total());
    }

    @Test
    void shouldRejectNegativeArguments() {
        ReceivedRing ring = new ReceivedRing(4);
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> ring.read(-1, 1));
        assertTrue(a.getMessage().startsWith("after"));
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class, () -> ring.read(0, -1));
        assertTrue(l.getMessage().startsWith("limit"));
    }

    @Test
    @ExtendWith(DeadlockWatchdog.class)
    void shouldLoseNothingWhenFourThreadsPlayAtOnceWhileOneReads() throws Exception {
        int threads = 4;
        int perThread = 10_000;
        ReceivedRing ring = new ReceivedRing(ReceivedLog.CAPACITY);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1, r -> new Thread(r, "midimesh-test-player"));
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> players = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                players.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i += 5) {
                        ring.append(msgs(base + i, 5), SOURCE, 0);
                    }
                    return null;
                }));
            }
            // A concurrent reader must see strictly increasing seqs across pages, never a duplicate.
            Future<Long> reader = pool.submit(() -> {
                start.await();
                long after = 0;
                long seen = 0;
                while (seen < (long) threads * perThread) {
                    Page p = ring.read(after, 500);
                    for (Received r : p.messages()) {
                        if (r.seq() != after + 1) {
                            throw new AssertionError("expected seq " + (after + 1) + ", got " + r.seq());
                        }
                        after = r.seq();
                        seen++;
                    }
                    Thread.onSpinWait();
                }
                return seen;
            });
            start.countDown();
            for (Future<?> f : players) {
                f.get(20, TimeUnit.SECONDS);
            }
            assertEquals((long) threads * perThread, reader.get(20, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
        }

        Page all = ring.read(0, Integer.MAX_VALUE);
        assertEquals(threads * perThread, all.total());
        assertEquals(threads * perThread, all.messages().size());
        Set<Long> seqs = new HashSet<>();
        Set<Integer> payloads = new HashSet<>();
        int[] lastPerThread = new int[threads];
        java.util.Arrays.fill(lastPerThread, -1);
        for (Received r : all.messages()) {
            assertTrue(seqs.add(r.seq()), "duplicate seq " + r.seq());
            int v = decode(r.message());
            assertTrue(payloads.add(v), "duplicate message " + v);
            int t = v / perThread;
            assertTrue(v > lastPerThread[t], "a thread's messages must keep their order");
            lastPerThread[t] = v;
        }
        assertEquals(LongStream.rangeClosed(1, threads * perThread).boxed().toList(),
                all.messages().stream().map(Received::seq).toList());
    }

    @Test
    @ExtendWith(DeadlockWatchdog.class)
    void shouldOnlyMoveForwardWhileFourThreadsWrapASmallRing() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        ReceivedRing ring = new ReceivedRing(64);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1, r -> new Thread(r, "midimesh-test-player"));
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> players = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                players.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i += 4) {
                        ring.append(msgs(base + i, 4), SOURCE, 0);
                    }
                    return null;
                }));
            }
            Future<Long> reader = pool.submit(() -> {
                start.await();
                long after = 0;
                long pages = 0;
                while (after < (long) threads * perThread) {
                    Page p = ring.read(after, 16);
                    long previous = after;
                    for (Received r : p.messages()) {
                        if (r.seq() <= previous) {
                            throw new AssertionError("seq " + r.seq() + " after " + previous);
                        }
                        previous = r.seq();
                    }
                    if (p.messages().size() > 1 && previous - p.messages().get(0).seq() != p.messages().size() - 1) {
                        throw new AssertionError("a page has a gap inside: " + p.messages());
                    }
                    after = p.next();
                    pages++;
                }
                return pages;
            });
            start.countDown();
            for (Future<?> f : players) {
                f.get(20, TimeUnit.SECONDS);
            }
            assertTrue(reader.get(20, TimeUnit.SECONDS) > 0);
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
        }
        Page last = ring.read(0, 1000);
        assertEquals(threads * perThread, last.total());
        assertEquals(LongStream.rangeClosed(threads * perThread - 63, threads * perThread).boxed().toList(),
                last.messages().stream().map(Received::seq).toList());
    }
}
