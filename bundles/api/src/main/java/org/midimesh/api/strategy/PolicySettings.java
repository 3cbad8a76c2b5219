package org.midimesh.api.strategy;

import java.util.Objects;

/**
 * The canary policy's configuration (PID {@code org.midimesh.strategy}, keys {@code policy.*}). Immutable.
 *
 * @param windowMs                     the sliding window the report and the policy look at
 * @param holdDownMs                   least time between two actions of the policy, and before it promotes a strategy
 *                                     it rolled back (no flapping)
 * @param promoteContentionPercent     promote when the default's contention stays above this over a whole window
 * @param rollbackP99RegressionPercent roll back when the canary's p99 is more than this much worse than the default's
 * @param rollbackErrors               roll back when the canary shows more errors than this in the window
 * @param rollbackDropped              ... more dropped messages than this
 * @param rollbackStalls               ... more stalls than this
 * @param minQueries                   fewer queries than this in the window is no evidence: the verdict is keep
 * @param candidate                    what to promote to when no canary runs (the workplan's Approach B: seda)
 */
public record PolicySettings(PolicyMode mode, long windowMs, long holdDownMs, double promoteContentionPercent,
        double rollbackP99RegressionPercent, long rollbackErrors, long rollbackDropped, long rollbackStalls,
        long minQueries, String candidate) {

    public PolicySettings {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(candidate, "candidate");
    }
}
