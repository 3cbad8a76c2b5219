package org.midimesh.devices.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.test.DeadlockWatchdog;

/** Output delivery's warm-up: every batch is played, on the pool it is given, and it stops when told. */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeliveryWarmupTest {

    private static final long INLINE_LIMIT = TimeUnit.MILLISECONDS.toNanos(5);

    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    @Test
    void everyBatchIsPlayed() {
        assertEquals("20000 batches, 20000 played",
                DeliveryWarmup.run(pool, 4096, INLINE_LIMIT, Duration.ofSeconds(30)));
    }

    @Test
    void aSmallQueueOnlySlowsItDown() {
        assertEquals("20000 batches, 20000 played", DeliveryWarmup.run(pool, 3, INLINE_LIMIT, Duration.ofSeconds(30)));
    }

    @Test
    void withoutInlinePlayEveryBatchGoesThroughThePool() {
        assertEquals("20000 batches, 20000 played", DeliveryWarmup.run(pool, 4096, 0, Duration.ofSeconds(30)));
    }

    @Test
    void anInterruptedWarmUpStopsAtOnce() {
        Thread.currentThread().interrupt();
        try {
            assertEquals("0 batches, 0 played", DeliveryWarmup.run(pool, 4096, INLINE_LIMIT, Duration.ofSeconds(30)));
        } finally {
            Thread.interrupted();
        }
    }
}
