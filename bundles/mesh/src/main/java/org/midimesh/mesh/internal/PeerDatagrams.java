package org.midimesh.mesh.internal;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DatagramListener;

/**
 * The datagram side of the mesh: a heartbeat refreshes the sender's connection, a heartbeat reply also gives its
 * round-trip time, a goodbye marks the connection DISCONNECTED. A sender without a connection has only its round trip
 * kept.
 * <p>Threads: the callbacks run on the transport's receive thread ({@code midimesh-udp-rx}) and never block: they only
 * tell the connection, which is thread-safe; HTTP threads read the round trips.
 */
final class PeerDatagrams implements DatagramListener {

    private final ConnectionPool pool;
    // Last round trip per peer in microseconds: put by the receive thread, read by HTTP threads, removed by forget on
    // any thread. The map publishes each value; nothing else hangs on it.
    private final Map<NodeId, Long> roundTrips = new ConcurrentHashMap<>();

    PeerDatagrams(ConnectionPool pool) {
        this.pool = pool;
    }

    @Override
    public void heartbeatReceived(NodeId sender, InetSocketAddress from, long roundTripMicros) {
        pool.get(sender).ifPresent(NetworkConnection::notifyHeartbeat);
        if (roundTripMicros >= 0) {
            roundTrips.put(sender, roundTripMicros);
        }
    }

    @Override
    public void goodbyeReceived(NodeId sender) {
        pool.get(sender).ifPresent(NetworkConnection::goodbyeReceived);
    }

    /** Last measured heartbeat round trip to {@code peer}, in microseconds; empty when none was measured. */
    OptionalLong roundTripMicros(NodeId peer) {
        Long rtt = roundTrips.get(peer);
        return rtt == null ? OptionalLong.empty() : OptionalLong.of(rtt);
    }

    /** Drops what is known of {@code peer}. */
    void forget(NodeId peer) {
        roundTrips.remove(peer);
    }
}
