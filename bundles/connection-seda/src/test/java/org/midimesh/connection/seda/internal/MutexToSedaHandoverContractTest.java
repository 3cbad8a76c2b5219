package org.midimesh.connection.seda.internal;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;
import org.midimesh.api.test.contract.StrategyHost;
import org.midimesh.strategy.internal.ManagerHost;
import org.midimesh.connection.mutex.internal.MutexStrategies;

/**
 * The contract with mutex as the strategy under test and seda as the other side: the hot-swap tests move live
 * connections from mutex to seda (and, in the two-way swap, back to mutex).
 */
class MutexToSedaHandoverContractTest extends ConnectionStrategyContractTest {

    @Override
    protected ConnectionStrategy newStrategy() {
        return MutexStrategies.start();
    }

    @Override
    protected void shutdown(ConnectionStrategy strategy) {
        MutexStrategies.stop(strategy);
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
        return SedaConnectionStrategyContractTest.startSeda();
    }

    @Override
    protected void shutdownOther(ConnectionStrategy other) {
        SedaConnectionStrategyContractTest.stopSeda(other);
    }
}
