package org.midimesh.connection.seda.internal;

import java.util.Map;

import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;

/**
 * The shared connection strategy contract, run against the seda strategy. The handover tests move connections to a
 * second seda strategy instance and back ({@link SedaToMutexHandoverContractTest} and
 * {@link MutexToSedaHandoverContractTest} cover the mixed directions).
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
        return SedaNetworkConnection.STRATEGY;
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
