package org.midimesh.api.test.contract;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.NetworkConnection;

/**
 * A minimal {@link ConnectionPool} for the contract suite (the api test-jar must not depend on the pool bundle). It
 * keeps the pool contract of workplan A.4: one lock guards the map; {@link #withAllConnections} runs its action under
 * that lock, so no connection is removed meanwhile; {@link #remove} takes the entry out under the lock and disconnects
 * and closes it only after releasing it. Thread-safe; owns no thread.
 */
public final class InMemoryConnectionPool implements ConnectionPool {

    // Fair, so that add and remove are not starved by a thread looping on withAllConnections.
    private final ReentrantLock lock = new ReentrantLock(true);
    // Guarded by lock.
    private final Map<NodeId, NetworkConnection> connections = new HashMap<>();

    @Override
    public boolean add(NodeId peer, NetworkConnection connection) {
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(connection, "connection");
        checkNotInsideAction("add");
        lock.lock();
        try {
            return connections.putIfAbsent(peer, connection) == null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<NetworkConnection> get(NodeId peer) {
        lock.lock();
        try {
            return Optional.ofNullable(connections.get(peer));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean remove(NodeId peer) {
        checkNotInsideAction("remove");
        NetworkConnection removed;
        lock.lock();
        try {
            removed = connections.remove(peer);
        } finally {
            lock.unlock();
        }
        if (removed == null) {
            return false;
        }
        removed.disconnect(); // outside the lock: a slow teardown never blocks the pool
        removed.close();
        return true;
    }

    @Override
    public Collection<NetworkConnection> all() {
        lock.lock();
        try {
            return List.copyOf(connections.values());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int size() {
        lock.lock();
        try {
            return connections.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public <T> T withAllConnections(Function<Collection<NetworkConnection>, T> action) {
        Objects.requireNonNull(action, "action");
        lock.lock();
        try {
            return action.apply(List.copyOf(connections.values()));
        } finally {
            lock.unlock();
        }
    }

    private void checkNotInsideAction(String operation) {
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException(operation + " must not be called from inside withAllConnections");
        }
    }
}
