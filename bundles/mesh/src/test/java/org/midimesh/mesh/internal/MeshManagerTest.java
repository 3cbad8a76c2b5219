package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.TestLocalNode;
import org.midimesh.api.transport.DataFrame;

@Timeout(10)
class MeshManagerTest {

    static final NodeId LOCAL = NodeId.parse("550e8400-e29b-41d4-a716-446655440000");
    static final NodeId PEER = NodeId.parse("660f9511-f39c-52e5-b827-557766551111");

    final List<String> linkCalls = new CopyOnWriteArrayList<>();
    final Map<NodeId, NetworkConnection> poolMap = new ConcurrentHashMap<>();
    final List<FakeConnection> created = new CopyOnWriteArrayList<>();
    ConnectionStrategy fake;
    ConnectionPool pool;
    PeerLink link;
    DeviceRegistry devices;
    MeshManager mesh;

    /** A connection that only records: enough to see what the mesh asks of it. */
    static final class FakeConnection implements org.midimesh.api.test.FakeConnectionDefaults {
        final ConnectionContext context;
        volatile ConnectionState state = ConnectionState.DISCONNECTED;
        volatile Handshake peer;
        volatile boolean closed;
        final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();

        FakeConnection(ConnectionContext context) {
            this.context = context;
        }

        @Override public String strategy() { return "fake"; }
        @Override public void connect() { state = ConnectionState.CONNECTING; }
        @Override public void disconnect() { state = ConnectionState.DISCONNECTED; }
        @Override public void handshakeCompleted(Handshake p) { peer = p; state = ConnectionState.CONNECTED; }
        @Override public void goodbyeReceived() { state = ConnectionState.DISCONNECTED; }
        @Override public ConnectionState getState() { return state; }
        @Override public Optional<NodeId> getRemoteId() { return getRemoteNode().map(NodeInfo::id); }
        @Override public Optional<NodeInfo> getRemoteNode() { return Optional.ofNullable(peer).map(Handshake::node); }
        @Override public List<DeviceInfo> getRemoteDevices() { return peer == null ? List.of() : peer.devices(); }
        @Override public long getTimeSinceLastHeartbeat() { return 0; }
        @Override public void notifyHeartbeat() { }
        @Override public void checkHeartbeat() { }
        @Override public boolean send(DataFrame frame) { return state == ConnectionState.CONNECTED; }
        @Override public void addListener(ConnectionListener l) { listeners.add(l); }
        @Override public void removeListener(ConnectionListener l) { listeners.remove(l); }
        @Override public void close() { closed = true; state = ConnectionState.DISCONNECTED; }

    }

    @BeforeEach
    void setUp() {
        LocalNode local = TestLocalNode.of(LOCAL, "local", Path.of("target"));
        pool = new ConnectionPool() {
            @Override public boolean add(NodeId p, NetworkConnection c) { return poolMap.putIfAbsent(p, c) == null; }
            @Override public Optional<NetworkConnection> get(NodeId p) { return Optional.ofNullable(poolMap.get(p)); }
            @Override public boolean remove(NodeId p) {
                NetworkConnection c = poolMap.remove(p);
                if (c != null) {
                    c.close();
                }
                return c != null;
            }
            @Override public Collection<NetworkConnection> all() { return List.copyOf(poolMap.values()); }
            @Override public int size() { return poolMap.size(); }
            @Override public <T> T withAllConnections(Function<Collection<NetworkConnection>, T> f) {
                return f.apply(all());
            }
        };
        link = new PeerLink() {
            @Override public void sendData(NodeInfo p, DataFrame f) { linkCalls.add("data " + p.id()); }
            @Override public void sendHeartbeat(NodeInfo p) { linkCalls.add("heartbeat " + p.id()); }
            @Override public void sendGoodbye(NodeInfo p) { linkCalls.add("goodbye " + p.id()); }
        };
        devices = new DeviceRegistry() {
            @Override public List<LocalDevice> devices() {
                return List.of(new LocalDevice(1, "local In", DeviceType.INPUT, "virtual"),
                        new LocalDevice(2, "local Out", DeviceType.OUTPUT, "virtual"));
            }
            @Override public Optional<LocalDevice> find(int id) { return Optional.empty(); }
            @Override public Optional<MidiPort> port(int id) { return Optional.empty(); }
            @Override public void send(int id, List<MidiMessage> m) { }
            @Override public void play(int id, List<MidiMessage> m, NodeId s) { }
        };
        mesh = new MeshManager(local, pool, link, devices, Configs.defaults(MeshConfig.class));
        fake = new ConnectionStrategy() {
            @Override public String name() { return "fake"; }
            @Override public NetworkConnection adopt(org.midimesh.api.connection.ConnectionHandover h) {
                throw new UnsupportedOperationException("not needed by these tests");
            }
            @Override public org.midimesh.api.connection.ConnectionMetrics metrics() {
                return new org.midimesh.api.connection.ConnectionMetrics("fake", 0, 0, 0, 0, 0,
                        org.midimesh.api.connection.ConnectionMetrics.LatencySummary.EMPTY, 0, 0);
            }
            @Override public NetworkConnection create(ConnectionContext c) {
                FakeConnection f = new FakeConnection(c);
                created.add(f);
                return f;
            }
        };
        mesh.bindStrategy(fake, Map.of());
    }

    @AfterEach
    void tearDown() {
        mesh.deactivate();
    }

    static Handshake peerHandshake() {
        return new Handshake(new NodeInfo(PEER, "peer", "h", "ignored", 7011, 7012, 7013, "0.1.0"),
                List.of(new DeviceInfo(1, "peer In", DeviceType.INPUT), new DeviceInfo(2, "peer Out",
                        DeviceType.OUTPUT)));
    }

    @Test
    void shouldHoldOneConnectedConnectionPerInboundPeer() {
        Handshake reply = mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        assertEquals(LOCAL, reply.node().id());
        assertEquals(2, reply.devices().size());
        assertEquals(1, poolMap.size());
        FakeConnection c = (FakeConnection) poolMap.get(PEER);
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals("127.0.0.9", c.getRemoteNode().orElseThrow().address(), "the address the peer came from");
        assertEquals("127.0.0.9", c.context.host());
        assertEquals(7011, c.context.httpPort());
        assertEquals(2, mesh.remoteDevices().size());
        assertEquals("inbound", mesh.peers().get(0).source().wireName());
    }

    @Test
    void shouldRefuseAHandshakeFromItsOwnId() {
        Handshake self = new Handshake(new NodeInfo(LOCAL, "me", "h", "a", 1, 2, 3, "v"), List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mesh.acceptHandshake(self, "127.0.0.1"));
        assertTrue(e.getMessage().startsWith("node_id"));
        assertTrue(poolMap.isEmpty());
    }

    @Test
    void shouldPassGoodbyesAndForgetPeers() {
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.goodbyeReceived(PEER);
        assertEquals(ConnectionState.DISCONNECTED, poolMap.get(PEER).getState());
        assertTrue(mesh.remoteDevices().isEmpty(), "devices of a disconnected peer are not listed");
        FakeConnection c = (FakeConnection) poolMap.get(PEER);
        assertTrue(mesh.forget(PEER));
        assertTrue(c.closed);
        assertTrue(poolMap.isEmpty());
        assertTrue(mesh.peers().isEmpty());
        assertFalse(mesh.forget(PEER));
    }

    @Test
    void shouldSayGoodbyeToConnectedPeersWhenStopping() {
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        mesh.deactivate();
        assertEquals(List.of("goodbye " + PEER), linkCalls);
        assertTrue(poolMap.isEmpty());
    }

    @Test
    void shouldDialAnAddedPeerWithAProbe() {
        mesh.addPeer("127.0.0.1", 7011, org.midimesh.api.mesh.Mesh.PeerSource.API);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                .until(() -> mesh.peers().size() == 1);
        assertThrows(IllegalArgumentException.class,
                () -> mesh.addPeer("", 7011, org.midimesh.api.mesh.Mesh.PeerSource.API));
        assertThrows(IllegalArgumentException.class,
                () -> mesh.addPeer("h", 70000, org.midimesh.api.mesh.Mesh.PeerSource.API));
    }

    @Test
    void shouldDialPeersAddedBeforeAStrategyIsBoundOnceOneIs() {
        mesh.unbindStrategy(fake, Map.of());
        mesh.addPeer("127.0.0.1", 7011, org.midimesh.api.mesh.Mesh.PeerSource.STATIC);
        mesh.addPeer("127.0.0.2", 7011, org.midimesh.api.mesh.Mesh.PeerSource.STATIC);
        mesh.bindStrategy(fake, Map.of());
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> created.size() == 2
                && created.stream().allMatch(c -> c.getState() == ConnectionState.CONNECTING));
        assertEquals(java.util.Set.of("127.0.0.1", "127.0.0.2"),
                created.stream().map(c -> c.context.host()).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void shouldDialWithTheDefaultStrategyEvenWhenAnotherBindsFirst() {
        // A grace time no slow machine can outlast, so the order of the binds is all that counts.
        MeshManager slow = new MeshManager(TestLocalNode.of(LOCAL, "local", Path.of("target")), pool, link,
                devices, Configs.of(MeshConfig.class, Map.of("strategy_grace_ms", 60_000L)));
        try {
            slow.bindStrategy(fake, Map.of());
            List<FakeConnection> byDefault = new CopyOnWriteArrayList<>();
            slow.addPeer("127.0.0.1", 7011, org.midimesh.api.mesh.Mesh.PeerSource.STATIC);
            slow.bindStrategy(new ConnectionStrategy() {
                @Override public String name() { return "mutex"; }
                @Override public NetworkConnection create(ConnectionContext c) {
                    FakeConnection f = new FakeConnection(c);
                    byDefault.add(f);
                    return f;
                }
                @Override public NetworkConnection adopt(org.midimesh.api.connection.ConnectionHandover h) {
                    throw new UnsupportedOperationException();
                }
                @Override public org.midimesh.api.connection.ConnectionMetrics metrics() {
                    throw new UnsupportedOperationException();
                }
            }, Map.of());
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> byDefault.size() == 1);
            assertTrue(created.isEmpty(), "no connection was made with the strategy that happened to bind first");
        } finally {
            slow.deactivate();
        }
    }

    @Test
    void shouldSayGoodbyeEvenWhenTheStrategyClosedTheConnectionFirst() {
        // On framework stop a strategy bundle may stop (closing its connections) before the mesh deactivates.
        mesh.acceptHandshake(peerHandshake(), "127.0.0.9");
        poolMap.get(PEER).disconnect();
        mesh.deactivate();
        assertEquals(List.of("goodbye " + PEER), linkCalls);
    }
}
