package org.midimesh.connection.pool.internal;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DataFrame;

/**
 * A connection that counts disconnect and close calls. Its close can be made to block until released, and it records
 * whether the pool lock was held while it was torn down.
 */
final class FakeConnection implements org.midimesh.api.test.FakeConnectionDefaults {

    final AtomicInteger disconnects = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    // Set by the test thread before use, read by whichever thread tears the connection down.
    volatile CountDownLatch closeGate;
    volatile CountDownLatch closeEntered = new CountDownLatch(1);
    volatile BooleanSupplier poolLockHeld = () -> false;
    volatile boolean lockHeldDuringTearDown;
    volatile boolean throwOnDisconnect;

    @Override
    public String strategy() {
        return "fake";
    }

    @Override
    public void connect() {
    }

    @Override
    public void disconnect() {
        lockHeldDuringTearDown |= poolLockHeld.getAsBoolean();
        disconnects.incrementAndGet();
        if (throwOnDisconnect) {
            throw new IllegalStateException("disconnect failed (expected by the test)");
        }
    }

    @Override
    public void handshakeCompleted(Handshake peer) {
    }

    @Override
    public void goodbyeReceived() {
    }

    @Override
    public ConnectionState getState() {
        return closes.get() > 0 ? ConnectionState.DISCONNECTED : ConnectionState.CONNECTED;
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return Optional.empty();
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
        return Long.MAX_VALUE;
    }

    @Override
    public void notifyHeartbeat() {
    }

    @Override
    public void checkHeartbeat() {
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

    boolean isClosed() {
        return closes.get() > 0;
    }

    @Override
    public void close() {
        lockHeldDuringTearDown |= poolLockHeld.getAsBoolean();
        closeEntered.countDown();
        CountDownLatch gate = closeGate;
        if (gate != null) {
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closes.incrementAndGet();
    }

}
