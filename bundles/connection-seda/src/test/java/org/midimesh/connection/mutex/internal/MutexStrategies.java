package org.midimesh.connection.mutex.internal;

import java.util.Map;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.Configs;

/**
 * For the seda module's hot-swap contract tests only: starts and stops the mutex strategy, whose {@code deactivate()}
 * is package-private (this class sits in the mutex package on the test class path; nothing of it ships).
 */
public final class MutexStrategies {

    private MutexStrategies() {
    }

    public static ConnectionStrategy start() {
        return new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, Map.of()));
    }

    public static void stop(ConnectionStrategy strategy) {
        ((MutexConnectionStrategy) strategy).deactivate();
    }
}
