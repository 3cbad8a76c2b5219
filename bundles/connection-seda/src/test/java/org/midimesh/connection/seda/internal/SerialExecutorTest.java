package org.midimesh.connection.seda.internal;

import static org.midimesh.connection.seda.internal.Wait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.common.NamedThreadFactory;

/** The stage: a serial executor per mailbox on a small shared pool. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class SerialExecutorTest {


    /** Runs tasks only when the test says so: lets a test see exactly what the mailbox hands to its stage. */
    private static final class ManualExecutor implements Executor {
        final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        boolean runOne() {
            Runnable r = tasks.poll();
            if (r == null) {
                return false;
            }
            r.run();
            return true;
        }

        void runAll() {
            while (runOne()) {
                // keep going
            }
        }
    }

    private final List<ExecutorService> pools = new ArrayList<>();
    private final CopyOnWriteArrayList<Throwable> failures = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopPools() throws InterruptedException {
        for (ExecutorService p : pools) {
            p.shutdownNow();
            assertTrue(p.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    private ThreadPoolExecutor pool(int threads, String name) {
        ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory(name, true));
        pools.add(p);
        return p;
    }

    private <T> SerialExecutor<T> mailbox(Executor stage, int capacity, SerialExecutor.Handler<T> handler) {
        return new SerialExecutor<>("test", stage, capacity, capacity, handler, failures::add);
    }

    /** Producer and sequence number in one long. */
    private static long item(int producer, int seq) {
        return ((long) producer << 32) | seq;
    }

    @Test
    void shouldRunEveryProducersItemsInTheOrderTheyWereOffered() throws Exception {
        int producers = 4;
        int perProducer = 20_000;
        int[] lastSeen = new int[producers];
        java.util.Arrays.fill(lastSeen, -1);
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        // The handler touches lastSeen without synchronization: the single-owner rule makes that safe.
        SerialExecutor<Long> m = mailbox(pool(4, "test-stage"), Integer.MAX_VALUE / 2, x -> {
            int p = (int) (x >>> 32);
            int seq = (int) (long) x;
            if (seq != lastSeen[p] + 1) {
                outOfOrder.incrementAndGet();
            }
            lastSeen[p] = seq;
            ran.incrementAndGet();
        });

        runProducers(producers, p -> {
            for (int i = 0; i < perProducer; i++) {
                assertTrue(m.offer(item(p, i)));
            }
        });

        await().until(() -> ran.get() == producers * perProducer);
        assertEquals(0, outOfOrder.get());
        await().until(() -> m.owner() == null);
        for (int p = 0; p < producers; p++) {
            assertEquals(perProducer - 1, lastSeen[p]);
        }
        assertEquals(0, m.depth());
        assertTrue(failures.isEmpty(), failures::toString);
    }

    @Test
    void shouldNeverRunOneMailboxOnTwoThreadsAtOnce() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger notOwner = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        SerialExecutor<Integer>[] box = newArray(1);
        box[0] = mailbox(pool(8, "test-stage"), Integer.MAX_VALUE / 2, x -> {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            if (!box[0].isOwner()) {
                notOwner.incrementAndGet();
            }
            threads.add(Thread.currentThread().getName());
            Thread.onSpinWait();
            inside.decrementAndGet();
            ran.incrementAndGet();
        });

        runProducers(8, p -> {
            for (int i = 0; i < 10_000; i++) {
                box[0].offer(i);
            }
        });

        await().until(() -> ran.get() == 80_000);
        assertEquals(0, overlaps.get());
        assertEquals(0, notOwner.get());
        assertFalse(box[0].isOwner());
        assertTrue(threads.size() >= 1);
    }

    @Test
    void shouldServeAThousandMailboxesWithTwoThreadsAndKeepEachInOrder() throws Exception {
        int mailboxes = 1000;
        int perMailbox = 100;
        ThreadPoolExecutor stage = pool(2, "test-stage");
        Set<String> threads = ConcurrentHashMap.newKeySet();
        int[] next = new int[mailboxes];
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger[] inside = new AtomicInteger[mailboxes];
        List<SerialExecutor<Integer>> boxes = new ArrayList<>();
        for (int b = 0; b < mailboxes; b++) {
            int id = b;
            inside[b] = new AtomicInteger();
            boxes.add(mailbox(stage, perMailbox, seq -> {
                if (inside[id].incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                threads.add(Thread.currentThread().getName());
                if (seq != next[id]) {
                    outOfOrder.incrementAndGet();
                }
                next[id] = seq + 1;
                inside[id].decrementAndGet();
                ran.incrementAndGet();
            }));
        }

        // One producer per slice of mailboxes keeps each mailbox's offers in one order.
        runProducers(8, p -> {
            for (int seq = 0; seq < perMailbox; seq++) {
                for (int b = p; b < mailboxes; b += 8) {
                    assertTrue(boxes.get(b).offer(seq));
                }
            }
        });

        await().until(() -> ran.get() == mailboxes * perMailbox);
        assertEquals(0, outOfOrder.get());
        assertEquals(0, overlaps.get());
        assertTrue(threads.size() <= 2, threads::toString);
        assertEquals(2, stage.getPoolSize());
        for (int b = 0; b < mailboxes; b++) {
            assertEquals(perMailbox, next[b]);
        }
    }

    @Test
    void shouldRefuseDataBeyondCapacityAndAdmitControlFromTheReserve() {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new ArrayList<>();
        SerialExecutor<String> m = new SerialExecutor<>("test", stage, 3, 2, ran::add, failures::add);

        assertTrue(m.offer("d1"));
        assertTrue(m.offer("d2"));
        assertTrue(m.offer("d3"));
        assertFalse(m.offer("d4"), "data beyond the capacity is refused");
        assertTrue(m.offerControl("c1"), "control may use the reserve");
        assertFalse(m.offer("d5"), "data may not");
        assertTrue(m.offerControl("c2"));
        assertFalse(m.offerControl("c3"), "the reserve is used up");
        m.offerAlways("close");
        assertEquals(6, m.depth());
        assertEquals(1, stage.tasks.size(), "one drain task per mailbox, however many items");

        stage.runAll();

        assertEquals(List.of("d1", "d2", "d3", "c1", "c2", "close"), ran);
        assertEquals(0, m.depth());
        assertTrue(m.offer("d6"));
    }

    @Test
    void shouldYieldItsStageThreadAfterABatchAndKeepTheOrder() {
        ManualExecutor stage = new ManualExecutor();
        List<Integer> ran = new ArrayList<>();
        SerialExecutor<Integer> m = mailbox(stage, 1000, ran::add);
        for (int i = 0; i < 150; i++) {
            m.offer(i);
        }
        assertEquals(1, stage.tasks.size());

        stage.runOne();
        assertEquals(SerialExecutor.BATCH, ran.size());
        assertEquals(1, stage.tasks.size(), "re-queued itself behind other mailboxes");
        m.offer(150);
        assertEquals(1, stage.tasks.size(), "still owned: no second drain task");

        stage.runAll();
        assertEquals(151, ran.size());
        for (int i = 0; i < ran.size(); i++) {
            assertEquals(i, ran.get(i));
        }
    }

    @Test
    void shouldHoldLaterItemsThenForwardThemInOrder() {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new ArrayList<>();
        List<String> forwarded = new CopyOnWriteArrayList<>();
        SerialExecutor<String>[] box = newArray(1);
        box[0] = mailbox(stage, 100, x -> {
            ran.add(x);
            if (x.equals("barrier")) {
                box[0].hold();
            }
        });
        SerialExecutor<String> m = box[0];
        m.offer("a");
        m.offer("barrier");
        m.offer("b");
        stage.runAll();
        m.offer("c");
        stage.runAll();

        assertEquals(List.of("a", "barrier"), ran);
        assertTrue(m.isHeld());
        assertEquals(2, m.depth(), "b and c are kept");

        m.drainInlineTo(forwarded::add);
        assertEquals(List.of("b", "c"), forwarded, "kept items go to the sink on the calling thread");
        m.offer("d");
        assertEquals(List.of("b", "c", "d"), forwarded, "later items too, inline");
        assertTrue(stage.tasks.isEmpty(), "nothing more runs on the stage");
        assertEquals(0, m.depth());
    }

    @Test
    void shouldDrainOnTheCallerOnceTheStageIsShutDown() {
        ThreadPoolExecutor stage = pool(1, "test-stage");
        stage.shutdown();
        List<String> threads = new ArrayList<>();
        SerialExecutor<String> m = mailbox(stage, 10, x -> threads.add(Thread.currentThread().getName()));

        assertTrue(m.offer("x"));

        assertEquals(List.of(Thread.currentThread().getName()), threads, "not stranded");
        assertEquals(0, m.depth());
    }

    @Test
    void shouldGoOnWithTheNextItemWhenOneThrows() {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new ArrayList<>();
        SerialExecutor<String> m = mailbox(stage, 10, x -> {
            if (x.equals("bad")) {
                throw new IllegalStateException("boom");
            }
            ran.add(x);
        });
        m.offer("a");
        m.offer("bad");
        m.offer("b");
        stage.runAll();

        assertEquals(List.of("a", "b"), ran);
        assertEquals(1, failures.size());
        assertEquals("boom", failures.get(0).getMessage());
    }

    @Test
    void shouldAssertTheSingleOwnerRuleWhenAnotherThreadActsAsOwner() {
        SerialExecutor<String> m = mailbox(new ManualExecutor(), 10, x -> { });
        assertFalse(m.isOwner());
        assertNull(m.owner());
        AssertionError e = assertThrows(AssertionError.class, m::hold);
        assertTrue(e.getMessage().contains("single-owner rule"), e.getMessage());
    }

    @Test
    void shouldPickUpAnItemOfferedWhileTheOwnerWasLeaving() throws Exception {
        // Many short bursts from two producers race the drainer's release-and-recheck; nothing may be stranded.
        ThreadPoolExecutor stage = pool(2, "test-stage");
        AtomicLong ran = new AtomicLong();
        SerialExecutor<Integer> m = mailbox(stage, Integer.MAX_VALUE / 2, x -> ran.incrementAndGet());
        long total = 0;
        for (int round = 0; round < 500; round++) {
            CountDownLatch go = new CountDownLatch(1);
            Thread a = new Thread(() -> awaitAndOffer(go, m, 3));
            Thread b = new Thread(() -> awaitAndOffer(go, m, 2));
            a.start();
            b.start();
            go.countDown();
            a.join();
            b.join();
            total += 5;
            long expected = total;
            await().until(() -> ran.get() == expected);
        }
        assertEquals(0, m.depth());
    }

    // ---- offerOrRun: the caller runs its own item when the mailbox is idle -------------------------------------

    @Test
    void shouldRunAnItemOnTheCallerWhenIdle() {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new ArrayList<>();
        SerialExecutor<String>[] box = newArray(1);
        box[0] = mailbox(stage, 10, x -> ran.add(x + "@" + Thread.currentThread().getName() + ":"
                + box[0].isOwner() + ":" + box[0].isIdle()));

        assertTrue(box[0].offerOrRun("a"));

        assertEquals(List.of("a@" + Thread.currentThread().getName() + ":true:false"), ran,
                "ran here, as the owner, and the mailbox was not idle meanwhile");
        assertTrue(stage.tasks.isEmpty(), "no stage task");
        assertNull(box[0].owner());
        assertEquals(0, box[0].depth());
        assertTrue(box[0].isIdle());
    }

    @Test
    void shouldQueueBehindItemsAlreadyQueued() {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new ArrayList<>();
        SerialExecutor<String> m = mailbox(stage, 10, ran::add);
        assertTrue(m.offer("a"));
        assertTrue(m.offerOrRun("b"));
        assertEquals(List.of(), ran, "b did not overtake a");
        stage.runAll();
        assertEquals(List.of("a", "b"), ran);
        assertTrue(m.offerOrRun("c"));
        assertEquals(List.of("a", "b", "c"), ran, "idle again: c ran at once");
    }

    @Test
    void shouldQueueWhileHeldAndRefuseWhenFull() {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new ArrayList<>();
        SerialExecutor<String>[] box = newArray(1);
        box[0] = mailbox(stage, 2, x -> {
            ran.add(x);
            if (x.equals("barrier")) {
                box[0].hold();
            }
        });
        SerialExecutor<String> m = box[0];
        assertTrue(m.offerOrRun("barrier"));
        assertTrue(m.isHeld());
        assertTrue(m.offerOrRun("a"));
        assertTrue(m.offerOrRun("b"));
        assertFalse(m.offerOrRun("c"), "capacity 2: refused, nothing run or queued");
        stage.runAll();
        assertEquals(List.of("barrier"), ran, "held: a and b wait");
        assertEquals(2, m.depth());
        m.resume();
        stage.runAll();
        assertEquals(List.of("barrier", "a", "b"), ran);
    }

    @Test
    void shouldLeaveItemsOfferedWhileItRanToTheStage() throws Exception {
        ManualExecutor stage = new ManualExecutor();
        List<String> ran = new CopyOnWriteArrayList<>();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SerialExecutor<String> m = mailbox(stage, 10, x -> {
            ran.add(x + "@" + Thread.currentThread().getName());
            if (x.equals("slow")) {
                inside.countDown();
                awaitQuietly(release);
            }
        });
        Thread caller = new Thread(() -> m.offerOrRun("slow"), "test-caller");
        caller.start();
        assertTrue(inside.await(10, TimeUnit.SECONDS));
        assertTrue(m.offerOrRun("x"), "queued: the caller owns the mailbox");
        assertTrue(m.offer("y"));
        assertTrue(stage.tasks.isEmpty(), "no drain while the caller owns it");
        release.countDown();
        caller.join(10_000);
        assertFalse(caller.isAlive());

        assertEquals(List.of("slow@test-caller"), ran, "the caller ran its own item only");
        assertEquals(1, stage.tasks.size(), "and handed the rest to the stage");
        stage.runAll();
        String me = Thread.currentThread().getName();
        assertEquals(List.of("slow@test-caller", "x@" + me, "y@" + me), ran);
    }

    @Test
    void shouldKeepEachProducersOrderAndOneOwnerWhenCallersAndStageShareAMailbox() throws Exception {
        int producers = 4;
        int perProducer = 20_000;
        int[] lastSeen = new int[producers];
        java.util.Arrays.fill(lastSeen, -1);
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger onCaller = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        // The handler touches lastSeen without synchronization: the single-owner rule makes that safe.
        SerialExecutor<Long> m = mailbox(pool(2, "test-stage"), Integer.MAX_VALUE / 2, x -> {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            int p = (int) (x >>> 32);
            int seq = (int) (long) x;
            if (seq != lastSeen[p] + 1) {
                outOfOrder.incrementAndGet();
            }
            lastSeen[p] = seq;
            if (Thread.currentThread().getName().startsWith("test-producer")) {
                onCaller.incrementAndGet();
            }
            inside.decrementAndGet();
            ran.incrementAndGet();
        });

        runProducers(producers, p -> {
            for (int i = 0; i < perProducer; i++) {
                assertTrue(i % 2 == 0 ? m.offerOrRun(item(p, i)) : m.offer(item(p, i)));
            }
        });

        await().until(() -> ran.get() == producers * perProducer);
        assertEquals(0, outOfOrder.get());
        assertEquals(0, overlaps.get());
        assertTrue(onCaller.get() > 0, "some items ran on their producers");
        await().until(() -> m.owner() == null);
        assertEquals(0, m.depth());
        assertTrue(failures.isEmpty(), failures::toString);
    }

    @Test
    void shouldRunTheSinkInlineAfterAHandoverAsOfferDoes() {
        ManualExecutor stage = new ManualExecutor();
        List<String> forwarded = new ArrayList<>();
        SerialExecutor<String> m = mailbox(stage, 10, x -> {
            throw new AssertionError("the handler after drainInlineTo: " + x);
        });
        m.drainInlineTo(forwarded::add);
        assertTrue(m.offerOrRun("a"));
        assertEquals(List.of("a"), forwarded);
        assertTrue(failures.isEmpty(), failures::toString);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            assertTrue(latch.await(20, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitAndOffer(CountDownLatch go, SerialExecutor<Integer> m, int n) {
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (int i = 0; i < n; i++) {
            m.offer(i);
        }
    }

    private interface Producer {
        void run(int index) throws Exception;
    }

    private static void runProducers(int n, Producer body) throws Exception {
        ExecutorService producers = Executors.newFixedThreadPool(n, new NamedThreadFactory("test-producer", true));
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int p = 0; p < n; p++) {
                int index = p;
                done.add(producers.submit(() -> {
                    start.await();
                    body.run(index);
                    return null;
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            producers.shutdownNow();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> SerialExecutor<T>[] newArray(int n) {
        return (SerialExecutor<T>[]) new SerialExecutor<?>[n];
    }
}
