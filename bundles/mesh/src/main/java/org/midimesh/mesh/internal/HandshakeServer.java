package org.midimesh.mesh.internal;

import java.util.ArrayList;
import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.LocalDevice;

/**
 * The server side of the handshake ({@code POST /network/handshake}, served by the http bundle): records the peer
 * where the request came from, creates or refreshes its connection, and answers with this node's handshake.
 * <p>Threads: runs on the HTTP threads that call it; it holds no lock, and the pool, the directory and the
 * connections it calls are thread-safe.
 */
final class HandshakeServer {

    private final LocalNode local;
    private final DeviceRegistry devices;
    private final ConnectionPool pool;
    private final PeerDirectory directory;
    private final Opener connections;
    private final MeshScheduler scheduler;

    /**
     * @param connections makes the connection of a peer that has none yet
     * @param scheduler   tells whether the mesh is stopping (then handshakes are refused)
     */
    HandshakeServer(LocalNode local, DeviceRegistry devices, ConnectionPool pool, PeerDirectory directory,
            Opener connections, MeshScheduler scheduler) {
        this.local = local;
        this.devices = devices;
        this.pool = pool;
        this.directory = directory;
        this.connections = connections;
        this.scheduler = scheduler;
    }

    /** This node's handshake as sent to peers, with the local devices as they are now. */
    Handshake localHandshake() {
        return localHandshake(local, devices);
    }

    /** This node's handshake: reachable at the bind address, or at the host name when bound to every interface. */
    static Handshake localHandshake(LocalNode local, DeviceRegistry devices) {
        String bind = local.bindAddress();
        String address = "0.0.0.0".equals(bind) || "::".equals(bind) ? local.hostname() : bind;
        List<DeviceInfo> list = new ArrayList<>();
        for (LocalDevice d : devices.devices()) {
            list.add(d.toInfo());
        }
        return new Handshake(local.toNodeInfo(address), list);
    }

    /**
     * Takes an inbound handshake: the peer's connection (made now if it has none) becomes CONNECTED with the peer's
     * node, reached at {@code remoteAddress}, and devices; an unknown peer is remembered as inbound.
     *
     * @return this node's handshake, for the reply
     * @throws IllegalArgumentException naming {@code node_id} when the peer claims this node's own id
     * @throws IllegalStateException    when the mesh is stopping
     */
    Handshake accept(Handshake peer, String remoteAddress) {
        NodeId id = peer.node().id();
        if (id.equals(local.id())) {
            throw new IllegalArgumentException("node_id: that is this node's own id");
        }
        if (scheduler.closing()) {
            throw new IllegalStateException("the node is stopping");
        }
        NodeInfo node = peer.node().withAddress(remoteAddress);
        NetworkConnection c = pool.get(id).orElse(null);
        if (c == null) {
            NetworkConnection fresh = connections.open(remoteAddress, node.httpPort());
            if (pool.add(id, fresh)) {
                c = fresh;
            } else { // the same peer's other handshake, or a probe of ours, got there first
                connections.discard(fresh);
                c = pool.get(id).orElseThrow(() -> new IllegalStateException("connection vanished"));
            }
        }
        c.handshakeCompleted(new Handshake(node, peer.devices()));
        directory.inbound(id, remoteAddress, node.httpPort());
        return localHandshake();
    }
}
