package org.midimesh.http.internal;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ConnectionStrategy} services a servlet is bound to, by name: the
 * {@value ConnectionStrategy#STRATEGY_PROPERTY} service property, or {@link ConnectionStrategy#name()} without it. Of
 * two services with one name the later bound is used. Thread-safe: bound and unbound on SCR threads, read on Jetty
 * request threads.
 */
final class StrategyServices {

    private static final Logger LOG = LoggerFactory.getLogger(StrategyServices.class);

    // ConcurrentHashMap: a put (bind, on an SCR thread) happens-before every later get or iteration that sees it
    // (request threads), so a strategy is seen fully constructed. Iteration is weakly consistent: a scrape racing a
    // bind may or may not include the new strategy, which is fine for metrics.
    private final ConcurrentMap<String, ConnectionStrategy> byName = new ConcurrentHashMap<>();

    static String nameOf(ConnectionStrategy strategy, Map<String, ?> properties) {
        Object p = properties == null ? null : properties.get(ConnectionStrategy.STRATEGY_PROPERTY);
        return p instanceof String s && !s.isBlank() ? s : strategy.name();
    }

    void bind(ConnectionStrategy strategy, Map<String, ?> properties) {
        byName.put(nameOf(strategy, properties), strategy);
    }

    void unbind(ConnectionStrategy strategy, Map<String, ?> properties) {
        byName.remove(nameOf(strategy, properties), strategy);
    }

    /**
     * Every bound strategy's {@link ConnectionStrategy#metrics()} now, by name in name order. A strategy whose
     * {@code metrics()} throws (for example while its bundle stops) is logged at WARN and left out, so one broken
     * strategy does not hide the others.
     */
    SortedMap<String, ConnectionMetrics> metrics() {
        SortedMap<String, ConnectionMetrics> out = new TreeMap<>();
        byName.forEach((name, strategy) -> {
            try {
                ConnectionMetrics m = strategy.metrics();
                if (m != null) {
                    out.put(name, m);
                }
            } catch (RuntimeException e) {
                LOG.warn("connection strategy {}: metrics() failed; left out of this answer", name, e);
            }
        });
        return out;
    }
}
