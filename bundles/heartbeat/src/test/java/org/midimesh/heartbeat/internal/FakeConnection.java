package org.midimesh.heartbeat.internal;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DataFrame;

/**
 * A connection with a settable state and peer. checkHeartbeat() fails it, as a strategy would, when it is CONNECTED
 * and the last heartbeat is older than its timeout; {@link #alive} makes every heartbeat age 0.
 */
final class FakeConnection implements org.midimesh.api.test.FakeConnectionDefaults {

    // Set by the test thread, read by the heartbeat thread (and written by it in checkHeartbeat).
    volatile ConnectionState state;
    volatile NodeInfo node;
    volatile boolean alive;
    volatile boolean throwOnGetState;
    final Duration timeout;
    final long createdNanos = System.nanoTime();
    final AtomicInteger checks = new AtomicInteger();

    FakeConnection(ConnectionState state, NodeInfo node, Duration timeout) {
        this.state = state;
        this.node = node;
        this.timeout = timeout;
    }

    static NodeInfo node() {
        return new NodeInfo(NodeId.random(), "peer", "peer-host", "127.0.0.1", 7474, 7475, 7476, "0.1.0");
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
    }

    @Override
    public void handshakeCompleted(Handshake peer) {
    }

    @Override
    public void goodbyeReceived() {
    }

    @Override
    public ConnectionState getState() {
        if (throwOnGetState) {
            throw new IllegalStateException("broken connection (expected by the test)");
        }
        return state;
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return getRemoteNode().map(NodeInfo::id);
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        return Optional.ofNullable(node);
    }

    @Override
    public List<DeviceInfo> getRemoteDevices() {
        return List.of();
    }

    @Override
    public long getTimeSinceLastHeartbeat() {
        return alive ? 0 : Duration.ofNanos(System.nanoTime() - createdNanos).toMillis();
    }

    @Override
    public void notifyHeartbeat() {
    }

    @Override
    public void checkHeartbeat() {
        checks.incrementAndGet();
        if (state == ConnectionState.CONNECTED && getTimeSinceLastHeartbeat() > timeout.toMillis()) {
            state = ConnectionState.FAILED;
        }
    }

    @Override
    public boolean send(DataFrame frame) {
        return false;
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

    @Override
    public String toString() {
        return "fake connection " + (node == null ? "(no node)" : node.id());
    }

}
