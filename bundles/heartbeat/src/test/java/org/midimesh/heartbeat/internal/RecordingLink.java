package org.midimesh.heartbeat.internal;

import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.transport.DataFrame;

/** Records the heartbeats; anything else is a test failure. */
final class RecordingLink implements PeerLink {

    final CopyOnWriteArrayList<NodeInfo> heartbeats = new CopyOnWriteArrayList<>();

    @Override
    public void sendData(NodeInfo peer, DataFrame frame) {
        throw new AssertionError("the monitor sends no data");
    }

    @Override
    public void sendHeartbeat(NodeInfo peer) {
        heartbeats.add(peer);
    }

    @Override
    public void sendGoodbye(NodeInfo peer) {
        throw new AssertionError("the monitor sends no goodbye");
    }
}
