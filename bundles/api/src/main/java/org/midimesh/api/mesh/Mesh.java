package org.midimesh.api.mesh;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The peers of this node and one logical connection per peer node, whichever side dialled first. Thread-safe; no
 * method blocks on the network.
 */
@ProviderType
public interface Mesh {

    /** How a peer became known. */
    enum PeerSource {
        STATIC, DISCOVERED, INBOUND, API;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A peer address this node knows, and what became of it.
     *
     * @param nodeId empty until a handshake told who is there
     */
    record Peer(String host, int httpPort, PeerSource source, Optional<NodeId> nodeId) {
    }

    /** A device of a connected peer. */
    record RemoteDevice(NodeId node, String nodeName, DeviceInfo device) {
    }

    /** The connections to known peer nodes (connected or not), as an immutable snapshot. */
    List<NetworkConnection> connections();

    Optional<NetworkConnection> connection(NodeId peer);

    /** The devices of every connected peer. */
    List<RemoteDevice> remoteDevices();

    List<Peer> peers();

    /** Adds a peer address and starts connecting in the background; repeated calls for one address are harmless. */
    void addPeer(String host, int httpPort, PeerSource source);

    /** Disconnects the peer and forgets it; false when unknown. */
    boolean forget(NodeId peer);

    /**
     * Takes an inbound handshake: records the peer (reached at {@code remoteAddress}), marks its connection
     * connected, and returns this node's handshake for the reply.
     */
    Handshake acceptHandshake(Handshake peer, String remoteAddress);

    /** This node's handshake as sent to peers. */
    Handshake localHandshake();

    /** Last measured heartbeat round trip to the peer, in microseconds. */
    OptionalLong roundTripMicros(NodeId peer);
}
