package org.midimesh.strategy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.test.DeadlockWatchdog;

@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CommandGateTest {

    private final ExecutorService helper = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "midimesh-test-gate-helper");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stopHelper() throws InterruptedException {
        helper.shutdown();
        assertTrue(helper.awaitTermination(10, TimeUnit.SECONDS));
    }

    /** Records, per engine, which producer issued which command number: the engine is only its identity here. */
    private record Rec(int engine, int producer, int n) {
    }

    private static ConnectionEngine engine(int id) {
        return (ConnectionEngine) java.lang.reflect.Proxy.newProxyInstance(CommandGateTest.class.getClassLoader(),
                new Class<?>[] {ConnectionEngine.class}, (p, m, a) -> switch (m.getName()) {
                    case "hashCode" -> id;
                    case "equals" -> p == a[0];
                    case "toString" -> "engine " + id;
                    default -> null;
                });
    }

    @Test
    void shouldLetCommandsInWhileOpenAndRunHeldOnesInOrderOnTheNextEngine() {
        AtomicReference<ConnectionEngine> current = new AtomicReference<>(engine(1));
        CommandGate gate = new CommandGate(current::get, helper);
        List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        assertTrue(gate.enterOrHold(e -> ran.add("never")), "an open gate lets the caller in");
        gate.exit();
        assertTrue(gate.shut(TimeUnit.SECONDS.toNanos(1)));
        for (int i = 0; i < 3; i++) {
            int n = i;
            assertFalse(gate.enterOrHold(e -> ran.add(e + " #" + n)), "a shut gate holds the command");
        }
        assertEquals(3, gate.heldCount());
        current.set(engine(2));
        gate.open(); // drains one slice itself; a slow first command may leave the rest to the helper
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> gate.heldCount() == 0);
        assertEquals(List.of("engine 2 #0", "engine 2 #1", "engine 2 #2"), ran);
        assertFalse(gate.isShut());
        assertTrue(gate.enterOrHold(e -> { }));
        gate.exit();
    }

    @Test
    void shouldWaitForARunningCommandBeforeItReportsShut() throws InterruptedException {
        CommandGate gate = new CommandGate(() -> engine(1), helper);
        assertTrue(gate.enterOrHold(e -> { })); // a command inside the engine
        assertFalse(gate.shut(TimeUnit.MILLISECONDS.toNanos(50)), "shut while a command runs");
        CountDownLatch shut = new CountDownLatch(1);
        Thread mover = new Thread(() -> {
            if (gate.shut(TimeUnit.SECONDS.toNanos(20))) {
                shut.countDown();
            }
        }, "test-mover");
        mover.start();
        assertFalse(shut.await(100, TimeUnit.MILLISECONDS));
        gate.exit();
        assertTrue(shut.await(20, TimeUnit.SECONDS));
        mover.join();
        gate.open();
    }

    @Test
    void shouldKeepEveryProducersOrderAndLoseNothingAcrossHundredsOfSwaps() throws InterruptedException {
        AtomicReference<ConnectionEngine> current = new AtomicReference<>(engine(0));
        CommandGate gate = new CommandGate(current::get, helper);
        ConcurrentLinkedQueue<Rec> log = new ConcurrentLinkedQueue<>();
        int producers = 4;
        int swaps = 500;
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        int[] issued = new int[producers];
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Thread t = new Thread(() -> {
                int n = 0;
                while (!stop.get() && n < 200_000) {
                    int k = n++;
                    if ((k & 255) == 0) {
                        Thread.yield(); // let the swapper in now and then on two cores
                    }
                    Consumer<ConnectionEngine> c = e -> {
                        log.add(new Rec(e.hashCode(), producer, k));
                        ran.incrementAndGet();
                    };
                    if (gate.enterOrHold(c)) {
                        try {
                            c.accept(current.get());
                        } finally {
                            gate.exit();
                        }
                    }
                }
                issued[producer] = n; // read after join
            }, "test-producer-" + p);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        java.util.concurrent.atomic.AtomicInteger counted = new java.util.concurrent.atomic.AtomicInteger();
        for (int swap = 1; swap <= swaps; swap++) {
            int before = ran.get();
            // traffic between swaps: a few hundred commands (a bounded wait; the producers stop at 200,000 each)
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).pollInterval(
                    java.time.Duration.ofMillis(1)).until(() -> ran.get() >= before + 200
                            || threads.stream().noneMatch(Thread::isAlive));
            counted.incrementAndGet();
            assertTrue(gate.shut(TimeUnit.SECONDS.toNanos(20)), "a command stayed inside for 20 s");
            current.set(engine(swap));
            gate.open();
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> gate.heldCount() == 0); // the helper may still be draining
        assertEquals(0, gate.runningCount());
        int[] next = new int[producers];
        int[] lastEngineOf = new int[producers];
        for (Rec r : log) {
            assertEquals(next[r.producer()], r.n(), "producer " + r.producer() + " out of order");
            next[r.producer()]++;
            assertTrue(r.engine() >= lastEngineOf[r.producer()], "a command ran on an older engine than an earlier "
                    + "one of its producer");
            lastEngineOf[r.producer()] = r.engine();
        }
        long total = 0;
        for (int p = 0; p < producers; p++) {
            assertEquals(issued[p], next[p], "producer " + p + " lost commands");
            total += issued[p];
        }
        System.out.printf("[gate] %d commands from %d producers across %d swaps, each producer's in order%n",
                total, producers, counted.get());
    }
}
