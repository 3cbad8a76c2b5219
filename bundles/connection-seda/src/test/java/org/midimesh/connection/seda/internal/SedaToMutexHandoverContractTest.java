package org.midimesh.connection.seda.internal;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;
import org.midimesh.api.test.contract.StrategyHost;
import org.midimesh.strategy.internal.ManagerHost;
import org.midimesh.connection.mutex.internal.MutexStrategies;

/**
 * The contract with seda as the strategy under test and mutex as the other side: the hot-swap tests move live
 * connections from seda to mutex (and, in the two-way swap, back to seda).
 */
class SedaToMutexHandoverContractTest extends ConnectionStrategyContractTest {

    @Override
    protected ConnectionStrategy newStrategy() {
        return SedaConnectionStrategyContractTest.startSeda();
    }

    @Override
    protected void shutdown(ConnectionStrategy strategy) {
        SedaConnectionStrategyContractTest.stopSeda(strategy);
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
        return MutexStrategies.start();
    }

    @Override
    protected void shutdownOther(ConnectionStrategy other) {
        MutexStrategies.stop(other);
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
