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
}
