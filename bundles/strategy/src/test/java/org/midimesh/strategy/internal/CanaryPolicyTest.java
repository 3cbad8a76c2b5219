package org.midimesh.strategy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.Verdict;
import org.midimesh.api.strategy.Verdict.Action;
import org.midimesh.strategy.internal.WindowStats.Figures;
import org.midimesh.strategy.internal.WindowStats.Totals;

@Timeout(10)
class CanaryPolicyTest {

    static final long WINDOW = 60_000;
    static final CanaryPolicy.Memory SETTLED = new CanaryPolicy.Memory(WINDOW, Optional.empty(), Long.MAX_VALUE);

    static Figures figures(String name, long queries, long contentions, long p99, long errors, long dropped,
            long stalls) {
        return new Figures(name, WINDOW, new Totals(queries, contentions, stalls, errors, dropped),
                new LatencySummary(queries / 64 + 1, p99 / 2, p99, p99 * 2, p99 * 3));
    }

    static StrategySettings settings(String def, Canary canary) {
        return StrategySettings.DEFAULTS.withDefault(def).withCanary(canary);
    }

    static Verdict verdict(StrategySettings s, CanaryPolicy.Memory m, Figures... fs) {
        Map<String, Figures> w = new HashMap<>();
        for (Figures f : fs) {
            w.put(f.name(), f);
        }
        return CanaryPolicy.evaluate(s, w, Set.of("mutex", "seda"), m);
    }

    @Test
    void shouldKeepWithoutEnoughQueries() {
        Verdict v = verdict(settings("mutex", Canary.NONE), SETTLED, figures("mutex", 999, 500, 100, 0, 0, 0));
        assertEquals(Action.KEEP, v.action());
        assertTrue(v.reason().contains("fewer than the 1000"), v.reason());
    }

    @Test
    void shouldPromoteTheCandidateWhenTheDefaultsContentionStaysAboveTheThreshold() {
        Verdict v = verdict(settings("mutex", Canary.NONE), SETTLED, figures("mutex", 10_000, 600, 100, 0, 0, 0));
        assertEquals(Action.PROMOTE, v.action(), v.reason());
        assertTrue(v.reason().contains("6.0%") && v.reason().contains("seda"), v.reason());
        assertEquals(6.0, v.figures().get("default_contention_percent"), 1e-9);

        assertEquals(Action.KEEP, verdict(settings("mutex", Canary.NONE), SETTLED,
                figures("mutex", 10_000, 400, 100, 0, 0, 0)).action(), "4% is under the threshold");
        assertEquals(Action.KEEP, verdict(settings("mutex", Canary.NONE),
                new CanaryPolicy.Memory(WINDOW - 1, Optional.empty(), Long.MAX_VALUE),
                figures("mutex", 10_000, 600, 100, 0, 0, 0)).action(), "not a whole window since the last change");
        assertEquals(Action.KEEP, verdict(settings("mutex", Canary.NONE),
                new CanaryPolicy.Memory(WINDOW, Optional.of("seda"), 1000),
                figures("mutex", 10_000, 600, 100, 0, 0, 0)).action(), "seda was just rolled back: hold-down");
        assertEquals(Action.KEEP, verdict(settings("seda", Canary.NONE), SETTLED,
                figures("seda", 10_000, 600, 100, 0, 0, 0)).action(), "already on the candidate");
    }

    @Test
    void shouldRollBackACanaryWithErrorsDropsStallsOrAWorseP99() {
        StrategySettings s = settings("mutex", new Canary("seda", 25, List.of()));
        Figures base = figures("mutex", 10_000, 0, 1000, 0, 0, 0);
        assertEquals(Action.KEEP, verdict(s, SETTLED, base, figures("seda", 5_000, 0, 1100, 0, 0, 0)).action(),
                "10% worse is allowed");
        Verdict slow = verdict(s, SETTLED, base, figures("seda", 5_000, 0, 1101, 0, 0, 0));
        assertEquals(Action.ROLLBACK, slow.action());
        assertTrue(slow.reason().contains("10.1%") && slow.reason().contains("1101 ns"), slow.reason());
        assertEquals(Action.ROLLBACK, verdict(s, SETTLED, base, figures("seda", 5_000, 0, 500, 1, 0, 0)).action());
        assertEquals(Action.ROLLBACK, verdict(s, SETTLED, base, figures("seda", 5_000, 0, 500, 0, 1, 0)).action());
        assertEquals(Action.ROLLBACK, verdict(s, SETTLED, base, figures("seda", 5_000, 0, 500, 0, 0, 1)).action());
        assertEquals(Action.KEEP, verdict(s, SETTLED, base, figures("seda", 999, 0, 5000, 3, 0, 0)).action(),
                "no evidence without enough canary queries");
    }

    @Test
    void shouldAdvanceAProgressiveCanaryAfterAHealthyWindow() {
        StrategySettings s = settings("mutex", new Canary("seda", 25, List.of(5, 25, 50, 100)));
        Figures base = figures("mutex", 10_000, 0, 1000, 0, 0, 0);
        Figures canary = figures("seda", 5_000, 0, 900, 0, 0, 0);
        Verdict v = verdict(s, SETTLED, base, canary);
        assertEquals(Action.PROMOTE, v.action());
        assertTrue(v.reason().contains("advance to 50%"), v.reason());
        Verdict last = verdict(settings("mutex", new Canary("seda", 50, List.of(5, 25, 50, 100))), SETTLED, base,
                canary);
        assertTrue(last.reason().contains("make it the default"), last.reason());
        assertEquals(Action.KEEP, verdict(s, new CanaryPolicy.Memory(WINDOW / 2, Optional.empty(), Long.MAX_VALUE),
                base, canary).action(), "half a window since the last step");
        assertEquals(Action.KEEP, verdict(settings("mutex", new Canary("seda", 25, List.of())), SETTLED, base,
                canary).action(), "no steps and no contention: a person decides");
    }
}
