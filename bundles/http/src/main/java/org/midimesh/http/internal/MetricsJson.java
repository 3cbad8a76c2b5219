package org.midimesh.http.internal;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.strategy.StrategyControl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON shapes of {@code /debug/metrics} and {@code /debug/connection/{uuid}/metrics} (field names become
 * snake_case through {@link ApiJson}), and how they are computed from {@link ConnectionMetrics}. Stateless.
 */
final class MetricsJson {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsJson.class);

    private MetricsJson() {
    }

    /**
     * Each available strategy's totals by name, in name order; empty without the strategy manager, or when it fails
     * (logged at WARN: it is going away), so the rest of an answer still comes.
     */
    static SortedMap<String, ConnectionMetrics> byStrategy(StrategyControl control) {
        if (control == null) {
            return new TreeMap<>();
        }
        try {
            return new TreeMap<>(control.metricsByStrategy());
        } catch (RuntimeException e) {
            LOG.warn("strategy manager: metricsByStrategy() failed; per-strategy metrics left out of this answer", e);
            return new TreeMap<>();
        }
    }

    /** {@code query_latency_ns}: sampled query latency in nanoseconds. */
    record Latency(long count, long p50, long p99, long p999, long max) {

        static Latency of(ConnectionMetrics.LatencySummary s) {
            return new Latency(s.count(), s.p50Ns(), s.p99Ns(), s.p999Ns(), s.maxNs());
        }
    }

    /** One strategy in {@code per_strategy}: its totals since it started, and its live connections now. */
    record StrategyJson(long totalQueries, long mutexContentions, double contentionPercent, long callbacksDispatched,
            long commandsProcessed, int queueDepth, Latency queryLatencyNs, long errors, long droppedMessages,
            long stalls, int connections) {
    }

    /**
     * {@code GET /debug/metrics}: sums over the strategies ({@code contention_percent} recomputed from the summed
     * counts), {@code connections} counting every live connection, then each strategy.
     */
    record DebugMetrics(long totalQueries, long mutexContentions, double contentionPercent, long callbacksDispatched,
            long commandsProcessed, long queueDepth, long errors, long droppedMessages, long stalls, int connections,
            Map<String, StrategyJson> perStrategy) {
    }

    /** {@code GET /debug/connection/{uuid}/metrics}. */
    record ConnectionJson(String nodeId, String strategy, String state, long totalQueries, long mutexContentions,
            double contentionPercent, long callbacksDispatched, long commandsProcessed, int queueDepth,
            Latency queryLatencyNs, long errors, long droppedMessages, long stalls) {
    }

    /** {@code 100 * contentions / queries}, 0 without queries (as {@link ConnectionMetrics#contentionPercent()}). */
    static double percent(long contentions, long queries) {
        return queries == 0 ? 0.0 : 100.0 * contentions / queries;
    }

    /** Live connections per {@link NetworkConnection#strategy()}. */
    static Map<String, Integer> connectionsByStrategy(List<NetworkConnection> connections) {
        Map<String, Integer> out = new HashMap<>();
        for (NetworkConnection c : connections) {
            out.merge(c.strategy(), 1, Integer::sum);
        }
        return out;
    }

    static DebugMetrics debugMetrics(SortedMap<String, ConnectionMetrics> strategies,
            List<NetworkConnection> connections) {
        Map<String, Integer> live = connectionsByStrategy(connections);
        Map<String, StrategyJson> per = new LinkedHashMap<>();
        long queries = 0;
        long contentions = 0;
        long callbacks = 0;
        long commands = 0;
        long queued = 0;
        long errors = 0;
        long dropped = 0;
        long stalls = 0;
        for (Map.Entry<String, ConnectionMetrics> e : strategies.entrySet()) {
            ConnectionMetrics m = e.getValue();
            queries += m.totalQueries();
            contentions += m.mutexContentions();
            callbacks += m.callbacksDispatched();
            commands += m.commandsProcessed();
            queued += m.queueDepth();
            errors += m.errors();
            dropped += m.droppedMessages();
            stalls += m.stalls();
            per.put(e.getKey(), new StrategyJson(m.totalQueries(), m.mutexContentions(), m.contentionPercent(),
                    m.callbacksDispatched(), m.commandsProcessed(), m.queueDepth(), Latency.of(m.queryLatency()),
                    m.errors(), m.droppedMessages(), m.stalls(), live.getOrDefault(e.getKey(), 0)));
        }
        return new DebugMetrics(queries, contentions, percent(contentions, queries), callbacks, commands, queued,
                errors, dropped, stalls, connections.size(), per);
    }

    static ConnectionJson connection(NodeId peer, NetworkConnection c) {
        String strategy = c.strategy();
        String state = c.getState().wireName();
        ConnectionMetrics m = c.metrics();
        return new ConnectionJson(peer.toString(), strategy, state, m.totalQueries(), m.mutexContentions(),
                m.contentionPercent(), m.callbacksDispatched(), m.commandsProcessed(), m.queueDepth(),
                Latency.of(m.queryLatency()), m.errors(), m.droppedMessages(), m.stalls());
    }
}
