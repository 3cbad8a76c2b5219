package org.midimesh.devices.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.common.NamedThreadFactory;

/**
 * One output lane, and above all inline play: an {@link ImmediatePlay} port is played on the offering thread when the
 * lane is idle, never two plays at once, nothing lost or reordered when offers race, and a port that breaks its
 * promise goes back to its delivery thread.
 */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OutputLaneTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long LIMIT = TimeUnit.MILLISECONDS.toNanos(5);
    private static final NodeId SOURCE = NodeId.random();
    private static final LocalDevice DEVICE = new LocalDevice(7, "Out", DeviceType.OUTPUT, "test");

    private final ExecutorService pool = Executors.newCachedThreadPool(new NamedThreadFactory("test-delivery", true));
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() throws InterruptedException {
        release.countDown();
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "every play returned");
    }

    /** What a port played: the message's data byte and the thread that played it. */
    record Play(int value, String thread) {
    }

    /** An output that records its plays, checks that no two overlap, and runs a hook first. */
    static class RecordingPort implements MidiPort {
        final List<Play> plays = new CopyOnWriteArrayList<>();
        final AtomicInteger playing = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        // Set by the test before offering, run by play; the volatile publishes it.
        volatile Runnable beforePlay = () -> { };

        @Override
        public String name() {
            return "Out";
        }

        @Override
        public DeviceType type() {
            return DeviceType.OUTPUT;
        }

        @Override
        public Availability availability() {
            return Availability.AVAILABLE;
        }

        @Override
        public void play(List<MidiMessage> messages, NodeId source) {
            if (playing.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            try {
                beforePlay.run();
                for (MidiMessage m : messages) {
                    plays.add(new Play(m.byteAt(1) << 7 | m.byteAt(2), Thread.currentThread().getName()));
                }
            } finally {
                playing.decrementAndGet();
            }
        }

        @Override
        public void setInputSink(InputSink sink) {
        }
    }

    static final class ImmediatePort extends RecordingPort implements ImmediatePlay {
    }

    private static List<MidiMessage> note(int value) {
        return List.of(MidiMessage.of((byte) 0x90, (byte) (value >> 7 & 0x7f), (byte) (value & 0x7f)));
    }

    private OutputLane lane(MidiPort port, int capacity, long inlineLimit) {
        return new OutputLane(DEVICE, port, "a test driver", pool, capacity, inlineLimit);
    }

    @Test
    void anImmediatePortIsPlayedOnTheOfferingThreadInOrder() {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, LIMIT);
        assertTrue(lane.playsInline());
        for (int i = 0; i < 100; i++) {
            assertTrue(lane.offer(note(i), SOURCE));
        }
        // Played before offer returned: no waiting needed.
        assertEquals(100, port.plays.size());
        String me = Thread.currentThread().getName();
        for (int i = 0; i < 100; i++) {
            assertEquals(new Play(i, me), port.plays.get(i));
        }
        DeviceStatus s = lane.status(Availability.AVAILABLE);
        assertEquals(100, s.played());
        assertEquals(0, s.queued());
        assertTrue(lane.playsInline(), "a quick port keeps playing inline");
    }

    @Test
    void anOrdinaryPortIsNeverPlayedOnTheOfferingThread() {
        RecordingPort port = new RecordingPort();
        OutputLane lane = lane(port, 64, LIMIT);
        assertFalse(lane.playsInline());
        for (int i = 0; i < 20; i++) {
            assertTrue(lane.offer(note(i), SOURCE));
        }
        await().atMost(WAIT).until(() -> port.plays.size() == 20);
        for (Play p : port.plays) {
            assertTrue(p.thread().startsWith("test-delivery"), p.toString());
        }
    }

    @Test
    void inlinePlayCanBeTurnedOff() {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, 0);
        assertFalse(lane.playsInline());
        lane.offer(note(1), SOURCE);
        await().atMost(WAIT).until(() -> port.plays.size() == 1);
        assertTrue(port.plays.get(0).thread().startsWith("test-delivery"));
    }

    @Test
    void whileAnInlinePlayRunsOtherOffersQueueAndArePlayedAfterItInOrder() throws Exception {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, TimeUnit.SECONDS.toNanos(10));
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        port.beforePlay = () -> {
            if (port.plays.isEmpty() && entered.getCount() > 0) {
                entered.countDown();
                awaitQuietly(go);
            }
        };
        Thread first = new Thread(() -> lane.offer(note(0), SOURCE), "first-offerer");
        first.start();
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        for (int i = 1; i <= 10; i++) {
            assertTrue(lane.offer(note(i), SOURCE), "queued behind the running play");
        }
        assertEquals(10, lane.status(Availability.AVAILABLE).queued());
        assertEquals(0, port.plays.size(), "nothing overtakes the running play");
        go.countDown();
        first.join(10_000);
        await().atMost(WAIT).until(() -> port.plays.size() == 11);
        assertEquals("first-offerer", port.plays.get(0).thread());
        for (int i = 0; i <= 10; i++) {
            assertEquals(i, port.plays.get(i).value());
        }
        for (int i = 1; i <= 10; i++) {
            assertTrue(port.plays.get(i).thread().startsWith("test-delivery"), "the queue is drained by the pool");
        }
        assertEquals(0, port.overlaps.get());
    }

    @Test
    void racingOffersLoseNothingKeepEachThreadsOrderAndNeverPlayTwiceAtOnce() throws Exception {
        ImmediatePort port = new ImmediatePort();
        int threads = 4;
        int each = 4_000; // values up to 16,383 fit two data bytes
        OutputLane lane = lane(port, threads * each, TimeUnit.SECONDS.toNanos(10));
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> offerers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * each;
            Thread th = new Thread(() -> {
                awaitQuietly(start);
                for (int i = 0; i < each; i++) {
                    if (!lane.offer(note(base + i), SOURCE)) {
                        throw new AssertionError("offer refused");
                    }
                }
            }, "offerer-" + t);
            offerers.add(th);
            th.start();
        }
        for (Thread th : offerers) {
            th.join(20_000);
            assertFalse(th.isAlive());
        }
        await().atMost(WAIT).until(() -> port.plays.size() == threads * each);
        assertEquals(0, port.overlaps.get(), "two plays ran at once");
        Map<Integer, Integer> last = new ConcurrentHashMap<>();
        int inline = 0;
        for (Play p : port.plays) {
            int thread = p.value() / each;
            Integer before = last.put(thread, p.value());
            assertTrue(before == null || before < p.value(), "offerer " + thread + " reordered: " + before + " then "
                    + p.value());
            if (p.thread().startsWith("offerer-")) {
                inline++;
            }
        }
        assertEquals(threads, last.size());
        DeviceStatus s = lane.status(Availability.AVAILABLE);
        assertEquals(threads * each, s.played());
        assertEquals(0, s.dropped());
        assertEquals(0, s.queued());
        assertTrue(inline > 0, "some plays ran inline");
    }

    @Test
    void aPlayOverTheLimitSendsThePortBackToItsDeliveryThreadForGood() {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, 1); // 1 ns: every play is over it
        lane.offer(note(0), SOURCE);
        assertEquals(Thread.currentThread().getName(), port.plays.get(0).thread(), "the first play is inline");
        assertFalse(lane.playsInline());
        for (int i = 1; i <= 5; i++) {
            lane.offer(note(i), SOURCE);
        }
        await().atMost(WAIT).until(() -> port.plays.size() == 6);
        for (int i = 1; i <= 5; i++) {
            assertEquals(i, port.plays.get(i).value());
            assertNotEquals(Thread.currentThread().getName(), port.plays.get(i).thread());
        }
    }

    @Test
    void anInlinePlayThatThrowsIsCountedAndTheOfferingThreadGoesOn() {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, TimeUnit.SECONDS.toNanos(10));
        port.beforePlay = () -> {
            throw new IllegalStateException("device gone");
        };
        assertTrue(lane.offer(note(1), SOURCE));
        DeviceStatus s = lane.status(Availability.AVAILABLE);
        assertEquals(1, s.failures());
        assertFalse(s.available());
        assertTrue(s.reason().contains("device gone"), s.reason());
        port.beforePlay = () -> { };
        assertTrue(lane.offer(note(2), SOURCE));
        assertTrue(lane.status(Availability.AVAILABLE).available(), "a play that works makes it available again");
        assertTrue(lane.playsInline(), "a failure is quick: the promise holds");
    }

    @Test
    void anInlinePlayThatHangsIsReportedWithTheThreadItHoldsAndInlinePlayEnds() throws Exception {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, LIMIT);
        CountDownLatch entered = new CountDownLatch(1);
        port.beforePlay = () -> {
            entered.countDown();
            awaitQuietly(release);
        };
        Thread held = new Thread(() -> lane.offer(note(0), SOURCE), "held-receiver");
        held.setDaemon(true);
        held.start();
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        lane.offer(note(1), SOURCE); // queued behind the hung play
        long now = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        lane.checkHung(now, TimeUnit.SECONDS.toNanos(1));
        DeviceStatus s = lane.status(Availability.AVAILABLE);
        assertFalse(s.available());
        assertTrue(s.reason().startsWith("play has not returned"), s.reason());
        assertEquals(1, s.dropped(), "what queued behind it is dropped");
        assertFalse(lane.playsInline());
        assertFalse(lane.offer(note(2), SOURCE), "dropped while it hangs");
        port.beforePlay = () -> { };
        release.countDown();
        held.join(10_000);
        assertTrue(lane.status(Availability.AVAILABLE).available());
        assertTrue(lane.offer(note(3), SOURCE));
        await().atMost(WAIT).until(() -> port.plays.size() == 2);
        assertEquals(3, port.plays.get(1).value());
        assertTrue(port.plays.get(1).thread().startsWith("test-delivery"), "back on the delivery thread");
    }

    @Test
    void aPlayThatOffersToItsOwnLaneQueuesInsteadOfDeadlocking() {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, TimeUnit.SECONDS.toNanos(10));
        AtomicInteger echoes = new AtomicInteger();
        port.beforePlay = () -> {
            if (echoes.getAndIncrement() == 0) {
                assertTrue(lane.offer(note(99), SOURCE));
            }
        };
        lane.offer(note(1), SOURCE);
        await().atMost(WAIT).until(() -> port.plays.size() == 2);
        assertEquals(1, port.plays.get(0).value());
        assertEquals(99, port.plays.get(1).value());
        assertEquals(0, port.overlaps.get());
    }

    @Test
    void aClosedLaneDropsInsteadOfPlayingInline() {
        ImmediatePort port = new ImmediatePort();
        OutputLane lane = lane(port, 64, LIMIT);
        lane.close();
        assertFalse(lane.offer(note(1), SOURCE));
        assertEquals(0, port.plays.size());
        assertEquals(1, lane.status(Availability.AVAILABLE).dropped());
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CyclicBarrier barrier) {
        try {
            barrier.await(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
