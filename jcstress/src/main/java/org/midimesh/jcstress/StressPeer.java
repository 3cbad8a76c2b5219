package org.midimesh.jcstress;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.transport.DataFrame;

/**
 * The peer the publication tests connect to, and the words their outcomes are written in. Immutable; shared by every
 * trial and thread of a fork.
 */
public final class StressPeer {

    public static final NodeInfo NODE = new NodeInfo(new NodeId(new UUID(0x6d6964696d657368L, 1L)), "stress-peer",
            "stress-peer", "127.0.0.1", 7474, 7475, 7476, "0.1.0");

    /** Three devices, so a list seen half-built would differ from both the empty and the full list. */
    public static final List<DeviceInfo> DEVICES = List.of(new DeviceInfo(1, "stress in", DeviceType.INPUT),
            new DeviceInfo(2, "stress out", DeviceType.OUTPUT), new DeviceInfo(3, "stress thru", DeviceType.OUTPUT));

    /** What the peer tells in its (inbound) handshake. */
    public static final Handshake HANDSHAKE = new Handshake(NODE, DEVICES);

    /**
     * Where the peer is. The tests only take inbound handshakes ({@code handshakeCompleted}), so the handshaker fails
     * if anything calls it; the link drops frames (nothing is sent).
     */
    public static final ConnectionContext CONTEXT = new ConnectionContext("127.0.0.1", 7474, (host, port) -> {
        throw new IOException("the stress tests make no outbound handshakes");
    }, new PeerLink() {
        @Override
        public void sendData(NodeInfo peer, DataFrame frame) {
        }

        @Override
        public void sendHeartbeat(NodeInfo peer) {
        }

        @Override
        public void sendGoodbye(NodeInfo peer) {
        }
    }, Duration.ofSeconds(30));

    // Outcome words (interned literals: recording one allocates nothing).
    public static final String NODE_SEEN = "node";
    public static final String NO_NODE = "no node";
    public static final String WRONG_NODE = "wrong node";
    public static final String ALL_DEVICES = "3 devices";
    public static final String NO_DEVICES = "no devices";
    public static final String TORN_DEVICES = "torn list";

    private StressPeer() {
    }

    /** {@link #NODE_SEEN}, {@link #NO_NODE}, or {@link #WRONG_NODE} for anything else. */
    public static String describe(Optional<NodeInfo> node) {
        if (node.isEmpty()) {
            return NO_NODE;
        }
        return NODE.equals(node.get()) ? NODE_SEEN : WRONG_NODE;
    }

    /**
     * {@link #ALL_DEVICES} for the peer's whole list, {@link #NO_DEVICES} for the empty one, {@link #TORN_DEVICES} for
     * anything else (a list seen while it was being filled, or with an element not yet visible).
     */
    public static String describe(List<DeviceInfo> devices) {
        if (devices.isEmpty()) {
            return NO_DEVICES;
        }
        return DEVICES.equals(devices) ? ALL_DEVICES : TORN_DEVICES;
    }
}
