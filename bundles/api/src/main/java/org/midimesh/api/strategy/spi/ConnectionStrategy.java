package org.midimesh.api.strategy.spi;

import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Makes {@link ConnectionEngine}s with one concurrency design. Registered as an OSGi service with the service property
 * {@value #STRATEGY_PROPERTY} set to its {@link #name()}; {@code service.ranking} orders services of one name (the
 * highest is used). Thread-safe.
 */
@ConsumerType
public interface ConnectionStrategy {

    /** Service property carrying the strategy name. */
    String STRATEGY_PROPERTY = "strategy";

    /** Short lower-case name, for example {@code mutex} or {@code seda}. */
    String name();

    /**
     * A new engine in state DISCONNECTED that reports to {@code events}; the caller owns it and ends it with
     * {@link ConnectionEngine#close()} or {@link ConnectionEngine#completeHandover()}.
     *
     * @throws IllegalStateException when the strategy has stopped
     */
    ConnectionEngine create(ConnectionContext context, EngineEvents events);

    /**
     * An engine that continues from another engine's {@link Handover}: same state, peer, devices and heartbeat time;
     * the handed-over frames go out before anything sent later, in order; a CONNECTING handover runs its own
     * handshake. No event is raised for the move itself. The caller owns the new engine.
     *
     * @throws IllegalStateException when the strategy has stopped
     */
    ConnectionEngine adopt(Handover handover, EngineEvents events);

    /** Totals over every engine this strategy made or adopted since it started, ended ones included. Never blocks. */
    ConnectionMetrics metrics();
}
