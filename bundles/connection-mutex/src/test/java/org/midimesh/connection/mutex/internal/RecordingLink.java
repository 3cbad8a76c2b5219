package org.midimesh.connection.mutex.internal;

import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.transport.DataFrame;

/** Records what would have been sent. */
final class RecordingLink implements PeerLink {

    record Sent(NodeInfo peer, DataFrame frame) {
    }

    final CopyOnWriteArrayList<Sent> data = new CopyOnWriteArrayList<>();
    final CopyOnWriteArrayList<NodeInfo> heartbeats = new CopyOnWriteArrayList<>();
    final CopyOnWriteArrayList<NodeInfo> goodbyes = new CopyOnWriteArrayList<>();

    @Override
    public void sendData(NodeInfo peer, DataFrame frame) {
        data.add(new Sent(peer, frame));
    }

    @Override
    public void sendHeartbeat(NodeInfo peer) {
        heartbeats.add(peer);
    }

    @Override
    public void sendGoodbye(NodeInfo peer) {
        goodbyes.add(peer);
    }
}
