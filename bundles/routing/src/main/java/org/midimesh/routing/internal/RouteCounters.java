package org.midimesh.routing.internal;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The in-memory statistics and log state of one route. Shared by every version of the route (an update keeps it), so
 * statistics survive updates but not restarts. Thread-safe: updated by every forwarding thread without locks.
 */
final class RouteCounters {

    // LongAdders: incremented by forwarding threads, summed by readers; a sum is a moment's estimate, never torn.
    final LongAdder forwarded = new LongAdder();
    final LongAdder dropped = new LongAdder();

    // Set once by the first thread that drops a non-realtime message for a remote destination; only gates a log line.
    final AtomicBoolean nonRealtimeWarned = new AtomicBoolean();

    /** Delivery failures (play threw, peer not connected, send refused). */
    final LogLimiter deliveryWarnings = new LogLimiter(Duration.ofSeconds(10));
}
