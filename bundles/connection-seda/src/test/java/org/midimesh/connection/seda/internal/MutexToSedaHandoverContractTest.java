package org.midimesh.connection.seda.internal;

import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.test.contract.ConnectionStrategyContractTest;
import org.midimesh.connection.mutex.internal.MutexStrategies;

/**
 * The contract with mutex as the strategy under test and seda as the other side: the handover tests move live
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
    protected ConnectionStrategy otherStrategy() {
        return SedaConnectionStrategyContractTest.startSeda();
    }

    @Override
    protected void shutdownOther(ConnectionStrategy other) {
        SedaConnectionStrategyContractTest.stopSeda(other);
    }
}
