package org.midimesh.connection.mutex.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Holds an engine's lock on another thread until closed, to provoke contention and timeouts. */
final class LockHolder implements AutoCloseable {

    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final Thread thread;

    LockHolder(MutexConnectionEngine c) throws InterruptedException {
        thread = new Thread(() -> {
            c.lockForTest().lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                c.lockForTest().unlock();
            }
        }, "test-lock-holder");
        thread.setDaemon(true);
        thread.start();
        assertTrue(held.await(10, TimeUnit.SECONDS));
    }

    @Override
    public void close() {
        release.countDown();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
