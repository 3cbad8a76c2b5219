package org.midimesh.api.connection;

import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;

import org.midimesh.api.NodeId;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The connections of this node, one per peer node id. Thread-safe.
 * <p>The pool never closes a connection while holding its lock: removal takes the entry out under the lock and closes
 * it afterwards.
 */
@ProviderType
public interface ConnectionPool {

    /** Adds the connection under {@code peer}; false (and nothing changes) when that peer already has one. */
    boolean add(NodeId peer, NetworkConnection connection);

    Optional<NetworkConnection> get(NodeId peer);

    /** Removes, disconnects and closes the peer's connection; false when there was none. */
    boolean remove(NodeId peer);

    /** An immutable snapshot of the current connections. */
    Collection<NetworkConnection> all();

    int size();

    /**
     * Runs {@code action} while the pool lock is held, so no connection is removed meanwhile (workplan A.4). The action
     * must only query the connections; it must not call back into the pool.
     */
    <T> T withAllConnections(Function<Collection<NetworkConnection>, T> action);
}
