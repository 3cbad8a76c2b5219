package org.midimesh.transport.udp.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Lets a repeating log line through at most once per period per key (a sender, an address, a listener), and counts what
 * it held back. Thread-safe; the per-key update runs inside {@link ConcurrentHashMap#compute}, which makes it atomic
 * for that key and calls out to nothing. The number of keys is bounded: past the bound, old keys are pruned, and if
 * that is not enough every new key shares one overflow key.
 */
final class LogThrottle {

    static final int MAX_KEYS = 1024;
    private static final Object OVERFLOW = new Object();

    private final long periodNanos;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<Object, Window> windows = new ConcurrentHashMap<>();

    /** Only read and written inside {@code compute} for its key. */
    private static final class Window {
        long lastLoggedNanos;
        long suppressed;
    }

    LogThrottle(long periodNanos, LongSupplier nanoTime) {
        this.periodNanos = periodNanos;
        this.nanoTime = nanoTime;
    }

    /**
     * Asks whether to log an event for {@code key} now.
     *
     * @return -1 to stay silent, otherwise how many events of this key were held back since the last one logged
     */
    long permit(Object key) {
        long now = nanoTime.getAsLong();
        if (windows.size() >= MAX_KEYS && !windows.containsKey(key)) {
            windows.values().removeIf(w -> now - w.lastLoggedNanos >= periodNanos);
            if (windows.size() >= MAX_KEYS) {
                key = OVERFLOW;
            }
        }
        long[] result = new long[1];
        windows.compute(key, (k, w) -> {
            if (w == null) {
                w = new Window();
                w.lastLoggedNanos = now;
                result[0] = 0;
            } else if (now - w.lastLoggedNanos >= periodNanos) {
                result[0] = w.suppressed;
                w.suppressed = 0;
                w.lastLoggedNanos = now;
            } else {
                w.suppressed++;
                result[0] = -1;
            }
            return w;
        });
        return result[0];
    }
}
