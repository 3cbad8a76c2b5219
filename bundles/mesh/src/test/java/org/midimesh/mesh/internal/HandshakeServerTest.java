package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.mesh.internal.Fixtures.LOCAL;
import static org.midimesh.mesh.internal.Fixtures.PEER;
import static org.midimesh.mesh.internal.Fixtures.peerHandshake;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh.Peer;
import org.midimesh.api.mesh.Mesh.PeerSource;
import org.midimesh.api.test.TestLocalNode;
import org.midimesh.api.test.contract.InMemoryConnectionPool;

/** Inbound handshakes: one connection per peer node, at the address the request came from. */
@Timeout(10)
class HandshakeServerTest {

    final TestLocalNode local = TestLocalNode.of(LOCAL, "local", Path.of("target"));
    final PeerDirectory directory = new PeerDirectory();
    final InMemoryConnectionPool pool = new InMemoryConnectionPool();
    final FakeStrategyControl strategies = new FakeStrategyControl();
    final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
    final MeshScheduler scheduler = new MeshScheduler(executor);
    final Opener opener = (host, port) -> strategies.open(Fixtures.context(host, port));
    final PeerDeviceLists peerLists = new PeerDeviceLists();
    final HandshakeServer server = new HandshakeServer(local, new LocalDeviceList(local, Fixtures.devices()), peerLists,
            pool, directory, opener, scheduler);

    @AfterEach
    void tearDown() {
        executor.shutdownNow();
    }

    @Test
    void shouldConnectANewPeerAtTheAddressItCameFrom() {
        Handshake reply = server.accept(peerHandshake(), "127.0.0.9");
        assertEquals(server.localHandshake(), reply);
        assertEquals(LOCAL, reply.node().id());
        assertEquals(List.of("local In", "local Out"), reply.devices().stream().map(DeviceInfo::name).toList());
        FakeConnection c = strategies.opened.get(0);
        assertSame(c, pool.get(PEER).orElseThrow());
        assertEquals("127.0.0.9", c.context.host());
        assertEquals(7011, c.context.httpPort());
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals("127.0.0.9", c.getRemoteNode().orElseThrow().address(), "not the address the peer claimed");
        assertEquals(peerHandshake().devices(), c.getRemoteDevices());
        assertEquals(List.of(new Peer("127.0.0.9", 7011, PeerSource.INBOUND, Optional.of(PEER))), directory.peers());
    }

    @Test
    void shouldRefreshTheConnectionOfAKnownPeer() {
        server.accept(peerHandshake(), "127.0.0.9");
        FakeConnection c = strategies.opened.get(0);
        c.fail();
        Handshake fewer = new Handshake(peerHandshake().node(), List.of(new DeviceInfo(3, "new", DeviceType.INPUT)));
        server.accept(fewer, "127.0.0.9");
        assertEquals(1, strategies.opened.size());
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals(fewer.devices(), c.getRemoteDevices());
        assertEquals(1, directory.peers().size());
    }

    /** Issue 7: the peer's handshakes travel on several HTTP exchanges at once; the newest list stays. */
    @Test
    void shouldKeepThePeersNewerListWhenAnOlderHandshakeArrivesLater() {
        server.accept(Fixtures.versioned(PEER, "ignored", 7011, "e1", 2, "peer In", "peer Out"), "127.0.0.9");
        Handshake reply = server.accept(Fixtures.versioned(PEER, "ignored", 7011, "e1", 1), "127.0.0.9");
        FakeConnection c = strategies.opened.get(0);
        assertEquals(List.of("peer In", "peer Out"), c.getRemoteDevices().stream().map(DeviceInfo::name).toList());
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals(server.localHandshake(), reply, "the older handshake is answered all the same");
        server.accept(Fixtures.versioned(PEER, "ignored", 7011, "restarted", 0), "127.0.0.9");
        assertEquals(List.of(), c.getRemoteDevices(), "a peer that started again counts from 0 again");
    }

    @Test
    void shouldReplyWithTheVersionOfItsDeviceList() {
        Handshake reply = server.accept(peerHandshake(), "127.0.0.9");
        assertEquals(0, reply.devicesVersion().orElseThrow().number());
    }

    @Test
    void shouldRefuseItsOwnId() {
        Handshake self = new Handshake(new NodeInfo(LOCAL, "me", "h", "a", 1, 2, 3, "v"), List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> server.accept(self, "127.0.0.1"));
        assertTrue(e.getMessage().startsWith("node_id"), e.getMessage());
        assertTrue(strategies.opened.isEmpty());
        assertTrue(directory.peers().isEmpty());
    }

    @Test
    void shouldRefuseWhileStopping() {
        scheduler.close();
        assertThrows(IllegalStateException.class, () -> server.accept(peerHandshake(), "127.0.0.9"));
        assertTrue(strategies.opened.isEmpty());
        assertEquals(0, pool.size());
    }

    @Test
    void shouldNotListAnInboundAddressForANodeKnownAtAnother() {
        String key = directory.add("10.0.0.1", 7011, PeerSource.STATIC);
        NetworkConnection probe = opener.open("10.0.0.1", 7011);
        directory.offerProbe(key, probe);
        directory.probeAnswered(probe, PEER);
        server.accept(peerHandshake(), "127.0.0.9");
        assertEquals(List.of(new Peer("10.0.0.1", 7011, PeerSource.STATIC, Optional.of(PEER))), directory.peers());
    }

    @Test
    void shouldUseTheConnectionThatGotIntoThePoolFirst() {
        FakeConnection winner = (FakeConnection) strategies.open(Fixtures.context("127.0.0.9", 7011));
        Opener racing = (host, port) -> {
            pool.add(PEER, winner); // another handshake of the same peer, on another HTTP thread, was quicker
            return strategies.open(Fixtures.context(host, port));
        };
        HandshakeServer racy = new HandshakeServer(local, new LocalDeviceList(local, Fixtures.devices()), peerLists,
                pool, directory, racing, scheduler);
        racy.accept(peerHandshake(), "127.0.0.9");
        assertSame(winner, pool.get(PEER).orElseThrow());
        assertEquals(ConnectionState.CONNECTED, winner.getState());
        assertTrue(strategies.opened.get(1).closed, "the loser was discarded");
    }

    @Test
    void shouldNameItsHostWhenBoundToEveryInterface() {
        LocalNode everywhere = new BoundTo("0.0.0.0", local);
        Handshake ours = new LocalDeviceList(everywhere, Fixtures.devices()).handshake();
        assertEquals("localhost", ours.node().address());
        assertEquals("127.0.0.1", server.localHandshake().node().address());
    }

    /** {@code node} bound to another address. */
    record BoundTo(String bindAddress, LocalNode node) implements LocalNode {
        @Override
        public NodeId id() {
            return node.id();
        }

        @Override
        public String name() {
            return node.name();
        }

        @Override
        public String hostname() {
            return node.hostname();
        }

        @Override
        public String version() {
            return node.version();
        }

        @Override
        public int httpPort() {
            return node.httpPort();
        }

        @Override
        public int udpPort() {
            return node.udpPort();
        }

        @Override
        public int tcpPort() {
            return node.tcpPort();
        }

        @Override
        public Optional<String> strategyOption() {
            return node.strategyOption();
        }

        @Override
        public Path dataDir() {
            return node.dataDir();
        }

        @Override
        public Optional<String> adminToken() {
            return node.adminToken();
        }

        @Override
        public List<String> staticPeers() {
            return node.staticPeers();
        }

        @Override
        public String discovery() {
            return node.discovery();
        }

        @Override
        public Instant startedAt() {
            return node.startedAt();
        }
    }
}
