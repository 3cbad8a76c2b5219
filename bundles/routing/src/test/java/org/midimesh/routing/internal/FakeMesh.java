package org.midimesh.routing.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh;

/** A mesh of peers the test adds, each with a FakeConnection. Thread-safe. */
final class FakeMesh implements Mesh {

    private final List<RemoteDevice> remote = new CopyOnWriteArrayList<>();
    private final Map<NodeId, FakeConnection> connections = new ConcurrentHashMap<>();

    /** Adds a connected peer (if new) with one device; returns the peer's connection. */
    FakeConnection addRemoteDevice(NodeId node, int id, DeviceType type) {
        remote.add(new RemoteDevice(node, "peer", new DeviceInfo(id, type.wireName() + "-" + id, type)));
        return connections.computeIfAbsent(node, FakeConnection::new);
    }

    /** The peer no longer lists that device (as after its driver was uninstalled). */
    void removeRemoteDevice(NodeId node, int id) {
        remote.removeIf(r -> r.node().equals(node) && r.device().id() == id);
    }

    /** Adds a connected peer that announced no devices; returns its connection. */
    FakeConnection addPeerWithoutDevices(NodeId node) {
        return connections.computeIfAbsent(node, FakeConnection::new);
    }

    /** Forgets the peer's connection (its devices stay known). */
    void dropConnection(NodeId node) {
        connections.remove(node);
    }

    @Override
    public List<NetworkConnection> connections() {
        return new ArrayList<>(connections.values());
    }

    @Override
    public Optional<NetworkConnection> connection(NodeId peer) {
        return Optional.ofNullable(connections.get(peer));
    }

    @Override
    public List<RemoteDevice> remoteDevices() {
        return List.copyOf(remote);
    }

    @Override
    public List<Peer> peers() {
        return List.of();
    }

    @Override
    public void addPeer(String host, int httpPort, PeerSource source) {
    }

    @Override
    public boolean forget(NodeId peer) {
        return false;
    }

    @Override
    public Handshake acceptHandshake(Handshake peer, String remoteAddress) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Handshake localHandshake() {
        throw new UnsupportedOperationException();
    }

    @Override
    public OptionalLong roundTripMicros(NodeId peer) {
        return OptionalLong.empty();
    }
}
