package org.midimesh.connection.mutex.internal;

import java.util.Map;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;
import org.midimesh.api.test.contract.StrategyHost;
import org.midimesh.strategy.internal.ManagerHost;

/**
 * The shared connection strategy contract, run against the mutex strategy through the real strategy manager. The
 * hot-swap tests move connections to a second mutex strategy instance and back (blue/green by ranking); the seda
 * module's suites cover mutex to seda and back.
 */
class MutexConnectionStrategyContractTest extends ConnectionStrategyContractTest {

    static ConnectionStrategy startMutex() {
        return new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, Map.of()));
    }

    @Override
    protected ConnectionStrategy newStrategy() {
        return startMutex();
    }

    @Override
    protected void shutdown(ConnectionStrategy strategy) {
        ((MutexConnectionStrategy) strategy).deactivate();
    }

    @Override
    protected String name() {
        return "mutex";
    }

    @Override
    protected StrategyHost newHost(String defaultStrategy) {
        return ManagerHost.create(defaultStrategy);
    }

    @Override
    protected ConnectionStrategy otherStrategy() {
        return startMutex();
    }
}
