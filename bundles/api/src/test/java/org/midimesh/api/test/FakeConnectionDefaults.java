package org.midimesh.api.test;

import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.NetworkConnection;

/**
 * For the hand-written {@link NetworkConnection} fakes of bundles whose tests do not look at metrics: zero metrics.
 * Implement this instead of {@link NetworkConnection}.
 */
public interface FakeConnectionDefaults extends NetworkConnection {

    @Override
    default ConnectionMetrics metrics() {
        return new ConnectionMetrics("fake", 0, 0, 0, 0, 0, ConnectionMetrics.LatencySummary.EMPTY, 0, 0, 0);
    }
}
