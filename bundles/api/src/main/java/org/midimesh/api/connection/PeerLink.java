package org.midimesh.api.connection;

import java.util.List;

import org.midimesh.api.NodeInfo;
import org.midimesh.api.transport.DataFrame;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Sends datagrams to a peer. Provided by the transport; thread-safe, never blocks beyond a socket send.
 */
@ProviderType
public interface PeerLink {

    /** Sends a realtime data frame (MIDI messages for one device) to the peer. */
    void sendData(NodeInfo peer, DataFrame frame);

    void sendHeartbeat(NodeInfo peer);

    void sendGoodbye(NodeInfo peer);

    /** Convenience for several frames in order. */
    default void sendData(NodeInfo peer, List<DataFrame> frames) {
        for (DataFrame f : frames) {
            sendData(peer, f);
        }
    }
}
