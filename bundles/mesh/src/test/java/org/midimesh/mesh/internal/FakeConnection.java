package org.midimesh.mesh.internal;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.test.FakeConnectionDefaults;
import org.midimesh.api.test.contract.HeldLocks;
import org.midimesh.api.transport.DataFrame;

/**
 * A connection that records what the mesh asks of it and tells its listeners about its state changes, on the calling
 * thread (the mesh hands every callback to its pool at once). With {@code checkLocks} it also records every call made
 * while the caller held a lock. Thread-safe.
 */
final class FakeConnection implements FakeConnectionDefaults {

    final ConnectionContext context;
    private final boolean checkLocks;
    private final Object lock = new Object();
    // Guarded by lock.
    private ConnectionState state = ConnectionState.DISCONNECTED;
    // Written by handshakeCompleted, read by the queries; the volatile write publishes the handshake's contents.
    private volatile Handshake peer;
    // Set once by close(); read by the tests.
    volatile boolean closed;
    // Set when anyone asks which strategy runs the connection: the mesh must not care.
    volatile boolean strategyAsked;
    final AtomicInteger connects = new AtomicInteger();
    final AtomicInteger heartbeats = new AtomicInteger();
    final List<Handshake> handshakes = new CopyOnWriteArrayList<>();
    final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<String> lockViolations = new ConcurrentLinkedQueue<>();
    // Set by a test, taken (once) by the next handshakeCompleted, which runs it on its caller's thread before it records
    // its handshake: another thread's call, landing in between, made deterministic.
    volatile Runnable beforeNextHandshake;

    FakeConnection(ConnectionContext context, boolean checkLocks) {
        this.context = context;
        this.checkLocks = checkLocks;
    }

    FakeConnection(ConnectionContext context) {
        this(context, false);
    }

    /** The strategy's side: the handshake failed, or the peer went silent. */
    void fail() {
        moveTo(ConnectionState.FAILED);
    }

    @Override
    public String strategy() {
        strategyAsked = true;
        return "fake";
    }

    @Override
    public void connect() {
        check("connect");
        connects.incrementAndGet();
        ConnectionState s = getState();
        if (s != ConnectionState.CONNECTING && s != ConnectionState.CONNECTED) {
            moveTo(ConnectionState.CONNECTING);
        }
    }

    @Override
    public void disconnect() {
        check("disconnect");
        moveTo(ConnectionState.DISCONNECTED);
    }

    @Override
    public void handshakeCompleted(Handshake p) {
        check("handshakeCompleted");
        Runnable before = beforeNextHandshake;
        if (before != null) {
            beforeNextHandshake = null;
            before.run();
        }
        peer = p;
        handshakes.add(p);
        moveTo(ConnectionState.CONNECTED);
    }

    @Override
    public void goodbyeReceived() {
        check("goodbyeReceived");
        moveTo(ConnectionState.DISCONNECTED);
    }

    @Override
    public ConnectionState getState() {
        check("getState");
        synchronized (lock) {
            return state;
        }
    }

    @Override
    public Optional<NodeId> getRemoteId() {
        return getRemoteNode().map(NodeInfo::id);
    }

    @Override
    public Optional<NodeInfo> getRemoteNode() {
        check("getRemoteNode");
        return Optional.ofNullable(peer).map(Handshake::node);
    }

    @Override
    public List<DeviceInfo> getRemoteDevices() {
        check("getRemoteDevices");
        Handshake p = peer;
        return p == null ? List.of() : p.devices();
    }

    @Override
    public long getTimeSinceLastHeartbeat() {
        return 0;
    }

    @Override
    public void notifyHeartbeat() {
        check("notifyHeartbeat");
        heartbeats.incrementAndGet();
    }

    @Override
    public void checkHeartbeat() {
    }

    @Override
    public boolean send(DataFrame frame) {
        return getState() == ConnectionState.CONNECTED;
    }

    @Override
    public void addListener(ConnectionListener l) {
        check("addListener");
        listeners.add(l);
    }

    @Override
    public void removeListener(ConnectionListener l) {
        check("removeListener");
        listeners.remove(l);
    }

    @Override
    public void close() {
        check("close");
        closed = true;
        synchronized (lock) {
            state = ConnectionState.DISCONNECTED; // a closed connection tells nobody anything any more
        }
    }

    private void moveTo(ConnectionState to) {
        ConnectionState from;
        synchronized (lock) {
            from = state;
            state = to;
        }
        if (from != to) {
            for (ConnectionListener l : listeners) {
                l.stateChanged(this, from, to);
            }
        }
    }

    private void check(String call) {
        if (checkLocks) {
            List<String> held = HeldLocks.ofCurrentThread();
            if (!held.isEmpty()) {
                lockViolations.add(call + " on " + Thread.currentThread().getName() + " holding " + held);
            }
        }
    }
}
