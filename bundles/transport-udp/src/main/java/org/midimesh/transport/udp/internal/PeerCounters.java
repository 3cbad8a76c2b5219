package org.midimesh.transport.udp.internal;

import java.util.concurrent.atomic.LongAdder;

import org.midimesh.api.transport.TransportStats.Counters;

/**
 * Traffic counters of one peer, or of the whole transport. Thread-safe: the receive thread and any sending thread add
 * concurrently. Each {@link LongAdder} is only a statistic and publishes nothing else; a {@link #snapshot} sums each
 * counter on its own, so counters taken together may be a few events apart while traffic flows.
 */
final class PeerCounters {

    final LongAdder datagramsIn = new LongAdder();
    final LongAdder datagramsOut = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder malformed = new LongAdder();
    final LongAdder realtimeDrops = new LongAdder();
    /** Duplicates and datagrams older than one already delivered; dropped (not part of the API counters). */
    final LongAdder stale = new LongAdder();

    void received(int bytes) {
        datagramsIn.increment();
        bytesIn.add(bytes);
    }

    void sent(int bytes) {
        datagramsOut.increment();
        bytesOut.add(bytes);
    }

    Counters snapshot() {
        // Reliable retries stay 0 until the reliable channel exists; this transport never retries.
        return new Counters(datagramsIn.sum(), datagramsOut.sum(), bytesIn.sum(), bytesOut.sum(), malformed.sum(),
                realtimeDrops.sum(), 0L);
    }
}
