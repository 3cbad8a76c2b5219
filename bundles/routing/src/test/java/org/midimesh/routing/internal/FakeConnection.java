package org.midimesh.routing.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DataFrame;

/** A connection whose state and send result the test sets; records sent frames. Thread-safe. */
final class FakeConnection implements org.midimesh.api.test.FakeConnectionDefaults {

    private final NodeId peer;
    // Set by the test thread, read by forwarding threads.
    volatile ConnectionState state = ConnectionState.CONNECTED;
    volatile boolean acceptSends = true;
    private final List<DataFrame> sent = Collections.synchronizedList(new ArrayList<>());

    FakeConnection(NodeId peer) {
        this.peer = peer;
    }

    List<DataFrame> sent() {
        synchronized (sent) {
            return List.copyOf(sent);
        }
    }

    @Override
    public String strategy() {
        return "fake";
    }

    @Override
    public void connect() {
    }

    @Override
    public void disconnect() {
        state = ConnectionState.DISCONNECTED;
    }

    @Override
    public void handshakeCompleted(Handshake h) {
    }

    @Override
    public void goodbyeReceived() {
    }

    @Override
    public ConnectionState getState() {
        return state;
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return Optional.of(peer);
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        return Optional.empty();
    }

    @Override
    public List<DeviceInfo> getRemoteDevices() {
        return List.of();
    }

    @Override
    public long getTimeSinceLastHeartbeat() {
        return 0;
    }

    @Override
    public void notifyHeartbeat() {
    }

    @Override
    public void checkHeartbeat() {
    }

    @Override
    public boolean send(DataFrame frame) {
        if (state != ConnectionState.CONNECTED || !acceptSends) {
            return false;
        }
        sent.add(frame);
        return true;
    }

    @Override
    public void addListener(ConnectionListener listener) {
    }

    @Override
    public void removeListener(ConnectionListener listener) {
    }

    @Override
    public void close() {
    }

}
