package org.midimesh.heartbeat.internal;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.NetworkConnection;

/** A pool over a list; the monitor must only use {@link #all()} snapshots. */
final class FakePool implements ConnectionPool {

    final CopyOnWriteArrayList<NetworkConnection> connections = new CopyOnWriteArrayList<>();

    @Override
    public boolean add(NodeId peer, NetworkConnection connection) {
        return connections.add(connection);
    }

    @Override
    public Optional<NetworkConnection> get(NodeId peer) {
        throw new AssertionError("the monitor has no reason to look up a peer");
    }

    @Override
    public boolean remove(NodeId peer) {
        throw new AssertionError("the monitor must not remove connections");
    }

    @Override
    public Collection<NetworkConnection> all() {
        return List.copyOf(connections);
    }

    @Override
    public int size() {
        return connections.size();
    }

    @Override
    public <T> T withAllConnections(Function<Collection<NetworkConnection>, T> action) {
        throw new AssertionError("the monitor must not call out while holding the pool lock");
    }
}
