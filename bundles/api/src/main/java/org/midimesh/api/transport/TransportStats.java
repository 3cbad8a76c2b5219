package org.midimesh.api.transport;

import java.util.Map;

import org.midimesh.api.NodeId;
import org.osgi.annotation.versioning.ProviderType;

/** Counters of the datagram transport. Thread-safe; values are read without blocking. */
@ProviderType
public interface TransportStats {

    /** Counters for one peer or for the total. */
    record Counters(long datagramsIn, long datagramsOut, long bytesIn, long bytesOut, long malformed,
            long realtimeDrops, long reliableRetries) {
    }

    Counters total();

    Map<NodeId, Counters> perPeer();

    /** The UDP port actually bound. */
    int udpPort();
}
