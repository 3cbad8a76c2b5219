package org.midimesh.api.strategy;

import java.time.Instant;
import java.util.List;

/**
 * The strategies side by side over the sliding window, and the policy's verdict. Immutable.
 *
 * @param windowMs how far back the figures reach (less while the node is younger than the window)
 */
public record StrategyReport(Instant at, long windowMs, List<Figures> strategies, Verdict verdict) {

    public StrategyReport {
        strategies = List.copyOf(strategies);
    }

    /**
     * One strategy over the window. Latency is that of the queries made through the node's connections, timed the
     * same way for every strategy (one query in 64).
     *
     * @param role        {@code default}, {@code canary} or {@code other}
     * @param connections live connections now
     * @param queries     queries answered in the window
     */
    public record Figures(String strategy, String role, int connections, long queries, long p50Ns, long p99Ns,
            long p999Ns, double contentionPercent, long stalls, long errors, long droppedMessages) {
    }
}
