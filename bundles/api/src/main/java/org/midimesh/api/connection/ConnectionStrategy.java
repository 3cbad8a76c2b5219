package org.midimesh.api.connection;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Makes {@link NetworkConnection}s with one concurrency design. Registered as an OSGi service with the service
 * property {@value #STRATEGY_PROPERTY} set to its {@link #name()}. Thread-safe.
 */
@ConsumerType
public interface ConnectionStrategy {

    /** Service property carrying the strategy name. */
    String STRATEGY_PROPERTY = "strategy";

    /** Short lower-case name, for example {@code mutex} or {@code seda}. */
    String name();

    /** A new connection in state DISCONNECTED; the caller owns it and must {@link NetworkConnection#close()} it. */
    NetworkConnection create(ConnectionContext context);

    /**
     * A connection that continues from a predecessor's {@link ConnectionHandover}: same state, peer, devices,
     * heartbeat time and listeners, with the queued frames sent first, in order. No state-change callback is fired
     * for the move. The caller owns the new connection.
     */
    NetworkConnection adopt(ConnectionHandover handover);

    /** Totals over every connection this strategy made since it started, closed ones included. Never blocks. */
    ConnectionMetrics metrics();
}
