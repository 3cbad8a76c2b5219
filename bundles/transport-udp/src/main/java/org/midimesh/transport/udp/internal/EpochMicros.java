package org.midimesh.transport.udp.internal;

import java.time.Instant;

/**
 * The transport's clock: microseconds since the Unix epoch, read from the wall clock once and then advanced by
 * {@link System#nanoTime}. It never steps backwards when the system clock is set, so a round-trip time never jumps and
 * timestamps grow with sequence numbers (the receiver relies on that to tell a restarted sender from a late datagram).
 * Immutable and thread-safe.
 */
final class EpochMicros {

    private final long baseMicros;
    private final long baseNanos;

    EpochMicros() {
        Instant now = Instant.now();
        this.baseNanos = System.nanoTime();
        this.baseMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    long now() {
        return baseMicros + (System.nanoTime() - baseNanos) / 1_000;
    }
}
