package org.midimesh.strategy.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.contract.StrategyHost;
import org.osgi.framework.Constants;

/**
 * The real strategy manager outside OSGi, for the contract suite and other tests: strategies are bound and unbound as
 * SCR would (with {@code strategy}, {@code service.ranking} and {@code service.id} properties), and {@link #add}
 * returns once the moves it causes are done. The settings file lives in a temporary directory, removed by
 * {@link #close()}. Not thread-safe (one test thread drives it), except {@link #control()}.
 */
public final class ManagerHost implements StrategyHost {

    private final Path dir;
    private final StrategyManager manager;
    private final Map<ConnectionStrategy, Map<String, Object>> bound = new IdentityHashMap<>();
    private long nextServiceId = 1000;

    private ManagerHost(Path dir, StrategyManager manager) {
        this.dir = dir;
        this.manager = manager;
    }

    /** A manager with {@code defaultStrategy}, no start-up grace, manual policy and {@code settings} on top. */
    public static ManagerHost create(String defaultStrategy, Map<String, ?> settings) {
        Path dir;
        try {
            dir = Files.createTempDirectory("midimesh-strategy-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> props = new HashMap<>();
        props.put(StrategySettings.DEFAULT, defaultStrategy);
        props.put(StrategySettings.GRACE_MS, 0L);
        props.putAll(settings);
        StrategyManager m = new StrategyManager(new StrategyManager.Environment(dir.resolve("etc"), Optional.empty(),
                () -> false), props);
        return new ManagerHost(dir, m);
    }

    public static ManagerHost create(String defaultStrategy) {
        return create(defaultStrategy, Map.of());
    }

    public StrategyManager manager() {
        return manager;
    }

    /** Where the manager keeps its settings file. */
    public Path etcDir() {
        return dir.resolve("etc");
    }

    @Override
    public StrategyControl control() {
        return manager;
    }

    @Override
    public void add(ConnectionStrategy strategy, int ranking) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConnectionStrategy.STRATEGY_PROPERTY, strategy.name());
        props.put(Constants.SERVICE_RANKING, ranking);
        props.put(Constants.SERVICE_ID, nextServiceId++);
        Map<String, Object> old = bound.put(strategy, props);
        if (old != null) {
            manager.unbindStrategy(strategy, old);
        }
        manager.bindStrategy(strategy, props);
        awaitIdle();
    }

    @Override
    public void remove(ConnectionStrategy strategy) {
        Map<String, Object> props = bound.remove(strategy);
        if (props != null) {
            manager.unbindStrategy(strategy, props);
        }
        awaitIdle();
    }

    /** Waits until the moves the manager queued so far are done. */
    public void awaitIdle() {
        try {
            manager.awaitIdle(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the strategy manager stayed busy for 30 s", e);
        }
    }

    @Override
    public void close() {
        manager.deactivate();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: best effort
        }
    }
}
