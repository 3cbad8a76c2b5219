package org.midimesh.heartbeat.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the named daemon threads of this bundle. With {@code numbered} the names are {@code <prefix>-1},
 * {@code <prefix>-2}, ...; otherwise every thread is called {@code <prefix>}. An uncaught exception is logged at ERROR
 * with the thread name. Thread-safe.
 */
final class NamedThreadFactory implements ThreadFactory {

    private static final Logger LOG = LoggerFactory.getLogger(NamedThreadFactory.class);

    private final String prefix;
    private final boolean numbered;
    // Only incremented (getAndIncrement); its value orders nothing, it just makes names unique.
    private final AtomicInteger next = new AtomicInteger(1);

    NamedThreadFactory(String prefix, boolean numbered) {
        this.prefix = prefix;
        this.numbered = numbered;
    }

    @Override
    public Thread newThread(Runnable r) {
        String name = numbered ? prefix + "-" + next.getAndIncrement() : prefix;
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler(
                (thread, e) -> LOG.error("uncaught exception in thread {}", thread.getName(), e));
        return t;
    }
}
