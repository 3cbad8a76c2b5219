package org.midimesh.example.sync;

import java.util.Map;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;
import org.midimesh.api.test.contract.StrategyHost;
import org.midimesh.strategy.internal.ManagerHost;

/**
 * The shared connection strategy contract, run against the sync strategy through the real strategy manager
 * ({@link ManagerHost}, from the strategy module's test-jar). The hot-swap tests move connections to a second sync
 * instance and back (blue/green by ranking). Sync has no command queue and its queries take a lock, so the suite's
 * two capability gates skip the tests of the other designs.
 */
class SyncConnectionStrategyContractTest extends ConnectionStrategyContractTest {

    static SyncConnectionStrategy startSync() {
        return new SyncConnectionStrategy(Configs.of(SyncConnectionStrategy.Config.class, Map.of()));
    }

    @Override
    protected ConnectionStrategy newStrategy() {
        return startSync();
    }

    @Override
    protected void shutdown(ConnectionStrategy strategy) {
        ((SyncConnectionStrategy) strategy).deactivate();
    }

    @Override
    protected String name() {
        return SyncConnectionStrategy.NAME;
    }

    @Override
    protected StrategyHost newHost(String defaultStrategy) {
        return ManagerHost.create(defaultStrategy);
    }

    @Override
    protected ConnectionStrategy otherStrategy() {
        return startSync();
    }
}
