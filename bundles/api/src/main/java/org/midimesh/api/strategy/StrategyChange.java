package org.midimesh.api.strategy;

import java.util.Objects;
import java.util.Optional;

/**
 * What {@link StrategyControl#change} changes; an empty field stays as it is. Immutable.
 *
 * @param defaultStrategy the strategy of every connection that is neither pinned nor in the canary
 * @param canary          the canary, or {@link Canary#NONE} to switch it off
 */
public record StrategyChange(Optional<String> defaultStrategy, Optional<Canary> canary) {

    public StrategyChange {
        Objects.requireNonNull(defaultStrategy, "defaultStrategy");
        Objects.requireNonNull(canary, "canary");
    }

    public static StrategyChange toDefault(String strategy) {
        return new StrategyChange(Optional.of(strategy), Optional.empty());
    }

    public static StrategyChange toCanary(Canary canary) {
        return new StrategyChange(Optional.empty(), Optional.of(canary));
    }
}
