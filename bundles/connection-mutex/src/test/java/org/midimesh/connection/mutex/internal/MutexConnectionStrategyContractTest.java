package org.midimesh.connection.mutex.internal;

import java.util.Map;

import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;

/**
 * The shared connection strategy contract, run against the mutex strategy. The handover tests move connections to a
 * second mutex strategy instance and back (the seda module's suite covers mutex to seda and back).
 */
class MutexConnectionStrategyContractTest extends ConnectionStrategyContractTest {

    @Override
    protected ConnectionStrategy newStrategy() {
        return new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, Map.of()));
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
    protected ConnectionStrategy otherStrategy() {
        return newStrategy();
    }
}
