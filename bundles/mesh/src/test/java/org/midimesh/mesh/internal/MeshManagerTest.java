package org.midimesh.mesh.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.mesh.internal.Fixtures.LOCAL;
import static org.midimesh.mesh.internal.Fixtures.PEER;
import static org.midimesh.mesh.internal.Fixtures.peerHandshake;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh.PeerSource;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.TestLocalNode;
import org.midimesh.api.test.contract.InMemoryConnectionPool;
import org.midimesh.api.test.contract.RecordingPeerLink;

/** The mesh as a whole, wired to a fake StrategyControl, an in-memory pool and a recording link. */
@Timeout(10)
class MeshManagerTest {

    static final Duration WAIT = Duration.ofSeconds(5);

    final InMemoryConnectionPool pool = new InMemoryConnectionPool();
    RecordingPeerLink link = new RecordingPeerLink();
    FakeStrategyControl strategies = new FakeStrategyControl();
    MeshManager mesh;

    @BeforeEach
    void setUp() {
        mesh = mesh(TestLocalNode.of(LOCAL, "local", Path.of("target")));
    }

    MeshManager mesh(LocalNode local) {
        return new MeshManager(local, pool, link, Fixtures.devices(), strategies, Configs.defaults(MeshConfig.class));
    }

    @AfterEach
    void tearDown() {
        mesh.deactivate();
        assertFalse(strategies.anyStrategyAsked(), "the mesh asked which strategy runs a connection");
    }

    FakeConnection pooled() {
        return (FakeConnection) pool.get(PEER).orElseThrow();
    }

    @Test
    void shouldHoldOneConnectedConnectionPerInboundPeer() {
        Handshake reply = mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        assertEquals(LOCAL, reply.node().id());
        assertEquals(2, reply.devices().size());
        assertEquals(1, pool.size());
        assertEquals(1, strategies.opened.size(), "the second handshake refreshed the same connection");
        FakeConnection c = pooled();
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals("127.0.0.9", c.getRemoteNode().orElseThrow().address(), "the address the peer came from");
        assertEquals("127.0.0.9", c.context.host());
        assertEquals(7011, c.context.httpPort());
        assertEquals(2, mesh.remoteDevices().size());
        assertEquals("inbound", mesh.peers().get(0).source().wireName());
        assertEquals(Optional.of(PEER), mesh.peers().get(0).nodeId());
    }

    @Test
    void shouldRefuseAHandshakeFromItsOwnId() {
        Handshake self = new Handshake(new NodeInfo(LOCAL, "me", "h", "a", 1, 2, 3, "v"), List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mesh.acceptHandshake(self, "127.0.0.1"));
        assertTrue(e.getMessage().startsWith("node_id"));
        assertEquals(0, pool.size());
        assertTrue(strategies.opened.isEmpty());
    }

    @Test
    void shouldPassGoodbyesAndForgetPeers() {
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.datagramListener().goodbyeReceived(PEER);
        assertEquals(ConnectionState.DISCONNECTED, pooled().getState());
        assertTrue(mesh.remoteDevices().isEmpty(), "devices of a disconnected peer are not listed");
        FakeConnection c = pooled();
        assertTrue(mesh.forget(PEER));
        assertTrue(c.closed);
        assertEquals(0, pool.size());
        assertTrue(mesh.peers().isEmpty());
        assertFalse(mesh.forget(PEER));
    }

    @Test
    void shouldPassHeartbeatsAndKeepTheRoundTrip() {
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        InetSocketAddress from = new InetSocketAddress("127.0.0.9", 7012);
        mesh.datagramListener().heartbeatReceived(PEER, from, 1234);
        mesh.datagramListener().heartbeatReceived(PEER, from, -1);
        assertEquals(2, pooled().heartbeats.get());
        assertEquals(OptionalLong.of(1234), mesh.roundTripMicros(PEER), "a plain heartbeat carries no round trip");
        mesh.forget(PEER);
        assertEquals(OptionalLong.empty(), mesh.roundTripMicros(PEER));
    }

    @Test
    void shouldSayGoodbyeToConnectedPeersWhenStopping() {
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        FakeConnection c = pooled();
        mesh.deactivate();
        assertEquals(List.of(PEER), link.goodbyes().stream().map(NodeInfo::id).toList());
        assertEquals(0, pool.size());
        assertTrue(c.closed);
    }

    @Test
    void shouldSayGoodbyeEvenWhenTheStrategyClosedTheConnectionFirst() {
        // On framework stop the strategy manager may stop (closing its connections) before the mesh deactivates.
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        pooled().disconnect();
        mesh.deactivate();
        assertEquals(List.of(PEER), link.goodbyes().stream().map(NodeInfo::id).toList());
    }

    @Test
    void shouldDialAnAddedPeerWithAProbe() {
        mesh.addPeer("127.0.0.1", 7011, PeerSource.API);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 1
                && strategies.opened.get(0).getState() == ConnectionState.CONNECTING);
        FakeConnection probe = strategies.opened.get(0);
        assertEquals("127.0.0.1", probe.context.host());
        assertEquals(7011, probe.context.httpPort());
        assertEquals(Duration.ofMillis(3000), probe.context.heartbeatTimeout());
        assertEquals(1, mesh.peers().size());
        assertEquals(PeerSource.API, mesh.peers().get(0).source());
        assertEquals(Optional.empty(), mesh.peers().get(0).nodeId());
        assertEquals(0, pool.size(), "a probe joins the pool only once it knows its node");
        assertThrows(IllegalArgumentException.class, () -> mesh.addPeer("", 7011, PeerSource.API));
        assertThrows(IllegalArgumentException.class, () -> mesh.addPeer("h", 70000, PeerSource.API));
    }

    @Test
    void shouldDialPeersAddedBeforeAnythingElseAtOnceThroughStrategyControl() {
        mesh.deactivate();
        LocalNode withPeers = new TestLocalNode(LOCAL, "local", Path.of("target"), 7474, 7475, 7476, Optional.empty(),
                List.of("127.0.0.1:7011", "[::1]:7021"));
        mesh = mesh(withPeers); // the constructor adds the static peers: nothing else has happened yet
        mesh.dialStaticPeers(); // as activation does once the listeners are registered
        mesh.addPeer("127.0.0.3", 7031, PeerSource.API);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 3
                && strategies.opened.stream().allMatch(c -> c.getState() == ConnectionState.CONNECTING));
        assertEquals(Set.of("127.0.0.1:7011", "::1:7021", "127.0.0.3:7031"), strategies.opened.stream()
                .map(c -> c.context.host() + ":" + c.context.httpPort()).collect(Collectors.toSet()));
        assertEquals(List.of(PeerSource.STATIC, PeerSource.STATIC, PeerSource.API),
                mesh.peers().stream().map(p -> p.source()).toList());
    }

    /**
     * Issue 7: a handshake built before the device listener is registered could carry a list whose next change (a
     * driver binding while the mesh activates) nobody announces; so the static peers are dialled only after that.
     */
    @Test
    void shouldDialTheStaticPeersOnlyOnceActivationRegisteredTheListeners() {
        mesh.deactivate();
        mesh = mesh(new TestLocalNode(LOCAL, "local", Path.of("target"), 7474, 7475, 7476, Optional.empty(),
                List.of("127.0.0.1:7011")));
        await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> strategies.opened.isEmpty());
        assertEquals(1, mesh.peers().size(), "the static peer is known from the start");
        mesh.dialStaticPeers();
        await().atMost(WAIT).until(() -> strategies.opened.size() == 1);
    }

    @Test
    void shouldRefuseAStaticPeerWithAnInvalidPort() {
        LocalNode bad = new TestLocalNode(LOCAL, "local", Path.of("target"), 7474, 7475, 7476, Optional.empty(),
                List.of("127.0.0.1:70000"));
        assertEquals("address must be host:port with a port 1..65535",
                assertThrows(IllegalArgumentException.class, () -> mesh(bad)).getMessage());
    }

    @Test
    void shouldAdoptAProbeIntoThePoolOnceItsHandshakeNamesTheNode() {
        mesh.addPeer("127.0.0.1", 7011, PeerSource.STATIC);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 1);
        FakeConnection probe = strategies.opened.get(0);
        probe.handshakeCompleted(Fixtures.handshake(PEER, "127.0.0.1", 7011)); // as the strategy does on connect()
        await().atMost(WAIT).until(() -> pool.get(PEER).isPresent());
        assertSame(probe, pool.get(PEER).orElseThrow(), "the probe itself is the peer's connection now");
        assertEquals(Optional.of(PEER), mesh.peers().get(0).nodeId());
        assertFalse(probe.closed);
    }

    @Test
    void shouldKeepOneConnectionPerNodeWhenAProbeReachesANodeAlreadyConnected() {
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        NetworkConnection inbound = pool.get(PEER).orElseThrow();
        mesh.addPeer("127.0.0.1", 7011, PeerSource.API);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 2);
        FakeConnection probe = strategies.opened.get(1);
        probe.handshakeCompleted(Fixtures.handshake(PEER, "127.0.0.1", 7011));
        await().atMost(WAIT).until(() -> probe.closed);
        assertSame(inbound, pool.get(PEER).orElseThrow());
        assertEquals(2, ((FakeConnection) inbound).handshakes.size(), "the probe handed its handshake over");
        assertEquals(1, pool.size());
    }

    @Test
    void shouldCloseProbesWhenStopping() {
        mesh.addPeer("127.0.0.1", 7011, PeerSource.STATIC);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 1);
        mesh.deactivate();
        assertTrue(strategies.opened.get(0).closed);
        assertTrue(link.goodbyes().isEmpty(), "nobody to say goodbye to: the probe never reached its node");
    }

    @Test
    void shouldRefuseHandshakesOnceStopping() {
        mesh.deactivate();
        assertThrows(IllegalStateException.class, () -> mesh.acceptHandshake(peerHandshake(), "127.0.0.9"));
        assertTrue(strategies.opened.isEmpty());
    }

    @Test
    @Timeout(30) // every call is checked for held locks, which stops the JVM at a safepoint each time
    void shouldNeverCallOutWhileHoldingALock() {
        strategies = new FakeStrategyControl(true);
        link = RecordingPeerLink.checkingLocks();
        mesh.deactivate();
        mesh = mesh(TestLocalNode.of(LOCAL, "local", Path.of("target")));
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.addPeer("127.0.0.1", 7011, PeerSource.API);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 2);
        strategies.opened.get(1).handshakeCompleted(Fixtures.handshake(PEER, "127.0.0.1", 7011));
        await().atMost(WAIT).until(() -> strategies.opened.get(1).closed);
        mesh.datagramListener().heartbeatReceived(PEER, new InetSocketAddress("127.0.0.9", 7012), 10);
        mesh.datagramListener().goodbyeReceived(PEER);
        mesh.addPeer("127.0.0.2", 7021, PeerSource.API);
        await().atMost(WAIT).until(() -> strategies.opened.size() == 3);
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.deactivate();
        assertEquals(List.of(), strategies.allLockViolations());
        assertEquals(List.of(), link.lockViolations());
    }
}
