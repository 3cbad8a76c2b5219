package org.midimesh.api.strategy;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What the policy makes of the last window. Immutable.
 *
 * @param reason  for a person, with the figures that led to it
 * @param figures the figures by name (for example {@code canary_p99_ns}), for scripts
 */
public record Verdict(Action action, String reason, Map<String, Double> figures) {

    /** {@code KEEP}: nothing to do; {@code PROMOTE}: move more connections to the candidate; {@code ROLLBACK}: undo. */
    public enum Action {
        KEEP, PROMOTE, ROLLBACK;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Verdict {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(reason, "reason");
        figures = Map.copyOf(figures);
    }
}
