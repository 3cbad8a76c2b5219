package org.midimesh.transport.udp.internal;

import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this bundle's named daemon threads ({@code midimesh-<role>}). An uncaught exception is logged at ERROR with the
 * thread name and handed to {@code onUncaught}, so the owner can report itself unhealthy. Thread-safe.
 */
final class NamedThreadFactory implements ThreadFactory {

    private static final Logger LOG = LoggerFactory.getLogger(NamedThreadFactory.class);

    private final String name;
    private final Consumer<Throwable> onUncaught;

    NamedThreadFactory(String name, Consumer<Throwable> onUncaught) {
        this.name = name;
        this.onUncaught = onUncaught;
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((thread, e) -> {
            LOG.error("uncaught exception in thread {}; it has stopped", thread.getName(), e);
            onUncaught.accept(e);
        });
        return t;
    }
}
