package org.midimesh.common;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes named daemon threads ({@code midimesh-<role>}). With {@code numbered} the names are {@code <prefix>-1},
 * {@code <prefix>-2}, ...; otherwise every thread is called {@code <prefix>}. An uncaught exception is logged at ERROR
 * with the thread name and handed to {@code onUncaught}, so the owner can report itself unhealthy. Thread-safe.
 */
public final class NamedThreadFactory implements ThreadFactory {

    private static final Logger LOG = LoggerFactory.getLogger(NamedThreadFactory.class);

    private final String prefix;
    private final boolean numbered;
    private final Consumer<Throwable> onUncaught;
    // Only incremented (getAndIncrement); its value orders nothing, it just makes names unique.
    private final AtomicInteger next = new AtomicInteger(1);

    public NamedThreadFactory(String prefix, boolean numbered) {
        this(prefix, numbered, e -> {
        });
    }

    public NamedThreadFactory(String prefix, boolean numbered, Consumer<Throwable> onUncaught) {
        this.prefix = prefix;
        this.numbered = numbered;
        this.onUncaught = onUncaught;
    }

    @Override
    public Thread newThread(Runnable r) {
        String name = numbered ? prefix + "-" + next.getAndIncrement() : prefix;
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((thread, e) -> {
            LOG.error("uncaught exception in thread {}; it has stopped", thread.getName(), e);
            onUncaught.accept(e);
        });
        return t;
    }
}
