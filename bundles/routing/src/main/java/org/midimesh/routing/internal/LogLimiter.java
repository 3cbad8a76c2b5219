package org.midimesh.routing.internal;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets a repeating warning through at most once per interval and counts the ones held back. Thread-safe, lock-free;
 * used from whatever thread forwards or receives (it owns no thread).
 */
final class LogLimiter {

    private final long intervalNanos;

    // System.nanoTime() from which the next message may be logged. CAS'd by any logging thread; it only decides which
    // thread logs and publishes nothing else, so plain volatile semantics of AtomicLong are all that is needed.
    private final AtomicLong nextAllowedNanos;

    // Events held back since the last logged one. Incremented by any thread, reset by the thread that logs; an
    // increment racing with the reset may be reported one message late, which is harmless.
    private final AtomicLong suppressed = new AtomicLong();

    LogLimiter(Duration interval) {
        this.intervalNanos = interval.toNanos();
        this.nextAllowedNanos = new AtomicLong(System.nanoTime());
    }

    /**
     * Records one event.
     *
     * @return -1 when this event must not be logged, else how many events were held back since the last logged one
     */
    long tryAcquire() {
        long now = System.nanoTime();
        long next = nextAllowedNanos.get();
        if (now - next < 0 || !nextAllowedNanos.compareAndSet(next, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return -1;
        }
        return suppressed.getAndSet(0);
    }
}
