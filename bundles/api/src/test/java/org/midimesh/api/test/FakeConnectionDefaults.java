package org.midimesh.api.test;

import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.NetworkConnection;

/**
 * For the hand-written {@link NetworkConnection} fakes of bundles whose tests do not look at metrics or hot swap:
 * zero metrics, and a handover that is refused. Implement this instead of {@link NetworkConnection}.
 */
public interface FakeConnectionDefaults extends NetworkConnection {

    @Override
    default ConnectionMetrics metrics() {
        return new ConnectionMetrics("fake", 0, 0, 0, 0, 0, ConnectionMetrics.LatencySummary.EMPTY, 0, 0);
    }

    @Override
    default ConnectionHandover beginHandover() {
        throw new UnsupportedOperationException("this fake does not hand over");
    }

    @Override
    default void completeHandover(NetworkConnection successor) {
        throw new UnsupportedOperationException("this fake does not hand over");
    }

    @Override
    default void abortHandover() {
        throw new UnsupportedOperationException("this fake does not hand over");
    }
}
