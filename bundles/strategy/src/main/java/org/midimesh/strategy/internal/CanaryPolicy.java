package org.midimesh.strategy.internal;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicySettings;
import org.midimesh.api.strategy.Verdict;
import org.midimesh.api.strategy.Verdict.Action;
import org.midimesh.strategy.internal.WindowStats.Figures;

/**
 * The workplan's decision tree as code: what to make of the last window. Pure and stateless: the manager gives it the
 * settings, the figures and what it remembers, and acts on (or, in manual mode, only records) the verdict.
 * <ul>
 * <li>With a canary running: <b>rollback</b> when the canary shows more errors, dropped messages or stalls than
 * allowed, or its p99 query latency is more than the allowed share worse than the default's; else, once a whole window
 * has passed since the last change, <b>promote</b> when progressive steps are configured (to the next step, or to
 * default after the last) or when the default's contention is above the threshold; else <b>keep</b>.</li>
 * <li>Without one: <b>promote</b> (to the candidate, seda by default: the workplan's "more than 5 % contention: proceed
 * to Approach B") when the default's contention stayed above the threshold over a whole window since the last change,
 * unless the candidate was rolled back within the hold-down; else <b>keep</b>.</li>
 * <li>Fewer queries than {@code policy.min.queries} in the window is no evidence either way: <b>keep</b>.</li>
 * </ul>
 */
final class CanaryPolicy {

    /**
     * What the manager remembers that the verdict depends on.
     *
     * @param sinceChangeMs   time since the settings last changed what runs where
     * @param rolledBack      the strategy the last rollback took away, if any
     * @param sinceRollbackMs time since that rollback
     */
    record Memory(long sinceChangeMs, Optional<String> rolledBack, long sinceRollbackMs) {
    }

    private CanaryPolicy() {
    }

    static Verdict evaluate(StrategySettings settings, Map<String, Figures> window, Set<String> available,
            Memory memory) {
        PolicySettings p = settings.policy();
        String def = settings.defaultStrategy();
        Canary canary = settings.canary();
        Map<String, Double> f = new LinkedHashMap<>();
        Figures base = window.get(def);
        put(f, "default", base);
        if (canary.active()) {
            Figures c = window.get(canary.strategy());
            put(f, "canary", c);
            f.put("canary_percent", (double) canary.percent());
            long cq = c == null ? 0 : c.totals().queries();
            if (cq < p.minQueries()) {
                return new Verdict(Action.KEEP, String.format(Locale.ROOT, "canary %s answered %d queries in the "
                        + "window, fewer than the %d the policy needs", canary.strategy(), cq, p.minQueries()), f);
            }
            if (c.totals().errors() > p.rollbackErrors()) {
                return rollback(f, "canary %s had %d errors in the window (allowed %d)", canary.strategy(),
                        c.totals().errors(), p.rollbackErrors());
            }
            if (c.totals().dropped() > p.rollbackDropped()) {
                return rollback(f, "canary %s dropped %d messages in the window (allowed %d)", canary.strategy(),
                        c.totals().dropped(), p.rollbackDropped());
            }
            if (c.totals().stalls() > p.rollbackStalls()) {
                return rollback(f, "canary %s stalled %d times in the window (allowed %d)", canary.strategy(),
                        c.totals().stalls(), p.rollbackStalls());
            }
            long cp99 = c.latency().p99Ns();
            long bp99 = base == null ? 0 : base.latency().p99Ns();
            if (bp99 > 0 && c.latency().count() > 0) {
                double worse = 100.0 * (cp99 - bp99) / bp99;
                f.put("p99_regression_percent", worse);
                if (worse > p.rollbackP99RegressionPercent()) {
                    return rollback(f, "canary %s p99 query latency %d ns is %.1f%% above the default %s's %d ns "
                            + "(allowed %.1f%%)", canary.strategy(), cp99, worse, def, bp99,
                            p.rollbackP99RegressionPercent());
                }
            }
            if (memory.sinceChangeMs() < p.windowMs()) {
                return new Verdict(Action.KEEP, String.format(Locale.ROOT, "canary %s healthy so far; %d of the %d "
                        + "ms window since the last change have passed", canary.strategy(), memory.sinceChangeMs(),
                        p.windowMs()), f);
            }
            Optional<Integer> next = canary.steps().stream().filter(s -> s > canary.percent()).findFirst();
            if (!canary.steps().isEmpty()) {
                return new Verdict(Action.PROMOTE, String.format(Locale.ROOT, "canary %s healthy over a whole window "
                        + "at %d%%: %s", canary.strategy(), canary.percent(), next.isPresent() && next.get() < 100
                                ? "advance to " + next.get() + "%" : "make it the default"), f);
            }
            double contention = base == null ? 0 : base.contentionPercent();
            if (base != null && base.totals().queries() >= p.minQueries()
                    && contention > p.promoteContentionPercent()) {
                return new Verdict(Action.PROMOTE, String.format(Locale.ROOT, "default %s contention %.1f%% over the "
                        + "window (above %.1f%%) and canary %s healthy: make it the default", def, contention,
                        p.promoteContentionPercent(), canary.strategy()), f);
            }
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "canary %s healthy at %d%%; no steps "
                    + "configured and default %s contention %.1f%% (threshold %.1f%%)", canary.strategy(),
                    canary.percent(), def, contention, p.promoteContentionPercent()), f);
        }
        long bq = base == null ? 0 : base.totals().queries();
        if (bq < p.minQueries()) {
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "default %s answered %d queries in the "
                    + "window, fewer than the %d the policy needs", def, bq, p.minQueries()), f);
        }
        double contention = base.contentionPercent();
        if (contention <= p.promoteContentionPercent()) {
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "default %s contention %.2f%% over the window "
                    + "(threshold %.1f%%)", def, contention, p.promoteContentionPercent()), f);
        }
        String candidate = p.candidate();
        if (candidate.equals(def)) {
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "default %s contention %.1f%% is above "
                    + "%.1f%%, but %s is already the candidate", def, contention, p.promoteContentionPercent(), def),
                    f);
        }
        if (!available.contains(candidate)) {
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "default %s contention %.1f%% is above "
                    + "%.1f%%, but candidate %s is not available", def, contention, p.promoteContentionPercent(),
                    candidate), f);
        }
        if (memory.rolledBack().equals(Optional.of(candidate)) && memory.sinceRollbackMs() < p.holdDownMs()) {
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "default %s contention %.1f%% is above "
                    + "%.1f%%, but %s was rolled back %d ms ago (hold-down %d ms)", def, contention,
                    p.promoteContentionPercent(), candidate, memory.sinceRollbackMs(), p.holdDownMs()), f);
        }
        if (memory.sinceChangeMs() < p.windowMs()) {
            return new Verdict(Action.KEEP, String.format(Locale.ROOT, "default %s contention %.1f%% is above "
                    + "%.1f%%; waiting for a whole window since the last change (%d of %d ms)", def, contention,
                    p.promoteContentionPercent(), memory.sinceChangeMs(), p.windowMs()), f);
        }
        return new Verdict(Action.PROMOTE, String.format(Locale.ROOT, "default %s contention %.1f%% over the window "
                + "(above %.1f%%): move to %s%s", def, contention, p.promoteContentionPercent(), candidate,
                settings.canary().steps().isEmpty() ? "" : " through canary steps " + settings.canary().steps()), f);
    }

    private static Verdict rollback(Map<String, Double> figures, String format, Object... args) {
        return new Verdict(Action.ROLLBACK, String.format(Locale.ROOT, format, args), figures);
    }

    private static void put(Map<String, Double> f, String role, Figures x) {
        if (x == null) {
            return;
        }
        f.put(role + "_queries", (double) x.totals().queries());
        f.put(role + "_contention_percent", x.contentionPercent());
        f.put(role + "_p50_ns", (double) x.latency().p50Ns());
        f.put(role + "_p99_ns", (double) x.latency().p99Ns());
        f.put(role + "_p999_ns", (double) x.latency().p999Ns());
        f.put(role + "_errors", (double) x.totals().errors());
        f.put(role + "_dropped", (double) x.totals().dropped());
        f.put(role + "_stalls", (double) x.totals().stalls());
    }
}
