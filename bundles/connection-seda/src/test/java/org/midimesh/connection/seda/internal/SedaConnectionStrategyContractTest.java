package org.midimesh.connection.seda.internal;

import java.util.Map;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;
import org.midimesh.api.test.contract.StrategyHost;
import org.midimesh.strategy.internal.ManagerHost;

/**
 * The shared connection strategy contract, run against the seda strategy through the real strategy manager. The
 * hot-swap tests move connections to a second seda strategy instance and back (blue/green by ranking;
 * {@link SedaToMutexHandoverContractTest} and {@link MutexToSedaHandoverContractTest} cover the mixed directions).
 */
class SedaConnectionStrategyContractTest extends ConnectionStrategyContractTest {

    static ConnectionStrategy startSeda() {
        return new SedaConnectionStrategy(Configs.of(SedaConnectionStrategy.Config.class, Map.of()));
    }

    static void stopSeda(ConnectionStrategy strategy) {
        ((SedaConnectionStrategy) strategy).deactivate();
    }

    @Override
    protected ConnectionStrategy newStrategy() {
        return startSeda();
    }

    @Override
    protected void shutdown(ConnectionStrategy strategy) {
        stopSeda(strategy);
    }

    @Override
    protected String name() {
        return SedaConnectionStrategy.NAME;
    }

    @Override
    protected StrategyHost newHost(String defaultStrategy) {
        return ManagerHost.create(defaultStrategy);
    }

    @Override
    protected ConnectionStrategy otherStrategy() {
        return startSeda();
    }

    @Override
    protected boolean hasCommandQueue() {
        return true;
    }

    @Override
    protected boolean isLockFree() {
        return true;
    }
}
