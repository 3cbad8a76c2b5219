package org.midimesh.api.strategy;

import java.util.List;
import java.util.Objects;

/**
 * A share of the connections run by another strategy than the default. A connection is in the share when the stable
 * hash of its peer's node id, 0..99, is below {@code percent}, so a peer stays in or out across restarts and a larger
 * share keeps the peers of a smaller one. Immutable.
 *
 * @param strategy the canary strategy; empty with percent 0 for no canary
 * @param percent  0..100
 * @param steps    progressive canary: the percents the policy advances through after each healthy window, ascending,
 *                 each 1..100; empty for none
 */
public record Canary(String strategy, int percent, List<Integer> steps) {

    public static final Canary NONE = new Canary("", 0, List.of());

    public Canary {
        Objects.requireNonNull(strategy, "strategy");
        steps = List.copyOf(steps);
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("canary.percent must be 0..100, not " + percent);
        }
        if (strategy.isEmpty() && percent != 0) {
            throw new IllegalArgumentException("canary.strategy is required when canary.percent is above 0");
        }
        int last = 0;
        for (int s : steps) {
            if (s <= last || s > 100) {
                throw new IllegalArgumentException("canary.steps must ascend within 1..100, not " + steps);
            }
            last = s;
        }
    }

    public boolean active() {
        return percent > 0;
    }
}
