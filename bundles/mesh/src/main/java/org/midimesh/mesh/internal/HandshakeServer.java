package org.midimesh.mesh.internal;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;

/**
 * The server side of the handshake ({@code POST /network/handshake}, served by the http bundle): records the peer
 * where the request came from, creates or refreshes its connection, and answers with this node's handshake.
 * <p>Threads: runs on the HTTP threads that call it; it holds no lock, and the pool, the directory and the
 * connections it calls are thread-safe.
 */
final class HandshakeServer {

    private final LocalNode local;
    private final LocalDeviceList localList;
    private final PeerDeviceLists peerLists;
    private final ConnectionPool pool;
    private final PeerDirectory directory;
    private final Opener connections;
    private final MeshScheduler scheduler;

    /**
     * @param localList   builds this node's handshake, for the reply
     * @param peerLists   keeps each peer's newest device list: an inbound handshake never overwrites a newer one
     * @param connections makes the connection of a peer that has none yet
     * @param scheduler   tells whether the mesh is stopping (then handshakes are refused)
     */
    HandshakeServer(LocalNode local, LocalDeviceList localList, PeerDeviceLists peerLists, ConnectionPool pool,
            PeerDirectory directory, Opener connections, MeshScheduler scheduler) {
        this.local = local;
        this.localList = localList;
        this.peerLists = peerLists;
        this.pool = pool;
        this.directory = directory;
        this.connections = connections;
        this.scheduler = scheduler;
    }

    /** This node's handshake as sent to peers, with the local devices as they are now. */
    Handshake localHandshake() {
        return localList.handshake();
    }

    /**
     * Takes an inbound handshake: the peer's connection (made now if it has none) becomes CONNECTED with the peer's
     * node, reached at {@code remoteAddress}, and devices (unless it has a newer list of them already); an unknown
     * peer is remembered as inbound.
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
        peerLists.apply(c, new Handshake(node, peer.devices(), peer.devicesVersion()));
        directory.inbound(id, remoteAddress, node.httpPort());
        return localHandshake();
    }
}
