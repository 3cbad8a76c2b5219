package org.midimesh.api.test.contract;

import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.spi.ConnectionStrategy;

/**
 * The strategy manager as the contract suite drives it: its {@link StrategyControl}, and strategies coming and going
 * as OSGi services would. A strategy module's test supplies one (the real manager, from the strategy bundle's
 * test-jar). Not thread-safe except {@link #control()}, which is as thread-safe as the service.
 */
public interface StrategyHost extends AutoCloseable {

    StrategyControl control();

    /** Makes {@code strategy} available, as a service registration with this {@code service.ranking} would. */
    void add(ConnectionStrategy strategy, int ranking);

    /**
     * Takes {@code strategy} away as the unregistration of its service would: its connections move to another strategy
     * before this returns. Does not stop the strategy.
     */
    void remove(ConnectionStrategy strategy);

    /** Stops the manager (not the strategies). */
    @Override
    void close();
}
