package org.midimesh.connection.pool.internal;

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
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's connections, one per peer node id (workplan A.4). Thread-safe; owns no thread.
 * <p>One {@link ReentrantLock} guards a plain {@link HashMap}, and every operation takes it, so {@link #all()} and
 * {@link #withAllConnections} see one consistent set (a concurrent map's weakly consistent iteration could show a
 * remove and a later add half-applied). Critical sections are map operations only, except the caller's action in
 * {@link #withAllConnections}, which the API restricts to queries; so waits are short and no bounded wait is needed.
 * <p>Nothing is torn down under the lock: {@link #remove} and {@link #deactivate} take the entries out under it and
 * disconnect and close them after releasing it, so a connection whose close blocks never blocks the pool.
 */
@Component(service = ConnectionPool.class)
public final class DefaultConnectionPool implements ConnectionPool {

    private static final Logger LOG = LoggerFactory.getLogger(DefaultConnectionPool.class);

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private final Map<NodeId, NetworkConnection> connections = new HashMap<>();

    public DefaultConnectionPool() {
    }

    /**
     * @throws IllegalStateException when called from inside {@link #withAllConnections} (the pool must not change
     *                               while that action runs)
     */
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
        Objects.requireNonNull(peer, "peer");
        lock.lock();
        try {
            return Optional.ofNullable(connections.get(peer));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the peer's connection out under the lock, then disconnects and closes it on the calling thread after
     * releasing the lock (so this call lasts as long as the connection's close).
     *
     * @throws IllegalStateException when called from inside {@link #withAllConnections}
     */
    @Override
    public boolean remove(NodeId peer) {
        Objects.requireNonNull(peer, "peer");
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
        tearDown(peer, removed);
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

    /**
     * Runs {@code action} on an immutable copy of the connections while holding the pool lock, so none of them is
     * removed (and closed) meanwhile. Exceptions from the action propagate; the lock is released either way. The
     * action may call {@link #get}, {@link #all} and {@link #size}, not {@link #add} or {@link #remove}.
     */
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

    /** Empties the pool and closes what was in it, outside the lock. */
    @Deactivate
    void deactivate() {
        Map<NodeId, NetworkConnection> left;
        lock.lock();
        try {
            left = new HashMap<>(connections);
            connections.clear();
        } finally {
            lock.unlock();
        }
        left.forEach(DefaultConnectionPool::tearDown);
        LOG.info("connection pool deactivated, closed {} connections", left.size());
    }

    /** For tests: whether the calling thread holds the pool lock. */
    boolean isLockHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** For tests: whether a thread is waiting for the pool lock. */
    boolean hasThreadsWaitingForLock() {
        return lock.hasQueuedThreads();
    }

    private void checkNotInsideAction(String operation) {
        // Only the thread running a withAllConnections action can hold the lock when entering a public method.
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException(operation + " must not be called from inside withAllConnections");
        }
    }

    /** Never called with the lock held. A failure is logged and does not stop the rest. */
    private static void tearDown(NodeId peer, NetworkConnection c) {
        try {
            c.disconnect();
        } catch (RuntimeException e) {
            LOG.warn("disconnecting the connection to {} failed", peer, e);
        }
        try {
            c.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the connection to {} failed", peer, e);
        }
        LOG.debug("removed the connection to {}", peer);
    }
}
