package org.midimesh.api.connection;

import java.util.Objects;

/**
 * Counters of one connection, or the totals of a strategy (workplan Appendix C). Immutable snapshot.
 *
 * @param strategy            name of the strategy
 * @param totalQueries        queries answered (getState, getRemoteNode, getRemoteDevices, heartbeat age, ...)
 * @param mutexContentions    queries that found a lock taken (always 0 for a lock-free strategy)
 * @param callbacksDispatched listener calls made
 * @param commandsProcessed   commands run by the owning worker (0 for a strategy without a command queue)
 * @param queueDepth          commands waiting now (0 without a queue)
 * @param queryLatency        query latency in nanoseconds (sampled)
 * @param errors              error callbacks (handshake failures, heartbeat timeouts, dropped commands)
 * @param droppedMessages     MIDI frames refused or lost by the connection (not connected, queue full, closed)
 * @param stalls              times the connection could not go on within its own bound: a lock wait that timed out,
 *                            a query its worker did not answer in time, a command backlog beyond its bound
 */
public record ConnectionMetrics(String strategy, long totalQueries, long mutexContentions, long callbacksDispatched,
        long commandsProcessed, int queueDepth, LatencySummary queryLatency, long errors, long droppedMessages,
        long stalls) {

    public ConnectionMetrics {
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(queryLatency, "queryLatency");
    }

    /** Share of queries that met contention, in percent (0 when there were no queries). */
    public double contentionPercent() {
        return totalQueries == 0 ? 0.0 : 100.0 * mutexContentions / totalQueries;
    }

    /**
     * Latency percentiles in nanoseconds of the recorded samples. Immutable.
     *
     * @param count samples recorded
     */
    public record LatencySummary(long count, long p50Ns, long p99Ns, long p999Ns, long maxNs) {

        public static final LatencySummary EMPTY = new LatencySummary(0, 0, 0, 0, 0);
    }
}
