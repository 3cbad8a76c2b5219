package org.midimesh.api.strategy;

import java.time.Instant;
import java.util.Objects;

/**
 * One entry of the decision log. Immutable.
 *
 * @param at      when it was taken
 * @param source  {@code policy} (a verdict of the canary policy) or {@code operator} (a rollback asked for by a person)
 * @param verdict the action, its reason and its figures
 * @param applied whether something was changed (false for a recommendation in manual mode)
 * @param change  what was changed, for example {@code canary seda 5% -> 25%}; empty when nothing was
 */
public record PolicyDecision(Instant at, String source, Verdict verdict, boolean applied, String change) {

    public PolicyDecision {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(change, "change");
    }
}
