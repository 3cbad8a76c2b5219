package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.midimesh.mesh.internal.Fixtures.OTHER;
import static org.midimesh.mesh.internal.Fixtures.PEER;

import java.net.InetSocketAddress;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.test.contract.InMemoryConnectionPool;

@Timeout(10)
class PeerDatagramsTest {

    final InMemoryConnectionPool pool = new InMemoryConnectionPool();
    final PeerDatagrams datagrams = new PeerDatagrams(pool);
    final InetSocketAddress from = new InetSocketAddress("127.0.0.9", 7012);

    FakeConnection connectedPeer() {
        FakeConnection c = new FakeConnection(Fixtures.context("127.0.0.9", 7011));
        c.handshakeCompleted(Fixtures.peerHandshake());
        pool.add(PEER, c);
        return c;
    }

    @Test
    void shouldRefreshTheSendersConnectionOnEveryHeartbeat() {
        FakeConnection c = connectedPeer();
        datagrams.heartbeatReceived(PEER, from, -1);
        datagrams.heartbeatReceived(PEER, from, 250);
        assertEquals(2, c.heartbeats.get());
    }

    @Test
    void shouldKeepTheLastRoundTripUntilForgotten() {
        connectedPeer();
        assertEquals(OptionalLong.empty(), datagrams.roundTripMicros(PEER));
        datagrams.heartbeatReceived(PEER, from, 250);
        datagrams.heartbeatReceived(PEER, from, 300);
        datagrams.heartbeatReceived(PEER, from, -1);
        assertEquals(OptionalLong.of(300), datagrams.roundTripMicros(PEER), "a plain heartbeat carries no round trip");
        datagrams.forget(PEER);
        assertEquals(OptionalLong.empty(), datagrams.roundTripMicros(PEER));
    }

    @Test
    void shouldDisconnectTheSenderOfAGoodbye() {
        FakeConnection c = connectedPeer();
        datagrams.goodbyeReceived(PEER);
        assertEquals(ConnectionState.DISCONNECTED, c.getState());
    }

    @Test
    void shouldIgnoreDatagramsFromPeersWithoutAConnection() {
        FakeConnection c = connectedPeer();
        datagrams.heartbeatReceived(OTHER, from, 100);
        datagrams.goodbyeReceived(OTHER);
        assertEquals(0, c.heartbeats.get());
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals(OptionalLong.of(100), datagrams.roundTripMicros(OTHER), "its round trip is kept all the same");
    }
}
