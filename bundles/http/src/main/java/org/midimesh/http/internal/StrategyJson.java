package org.midimesh.http.internal;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.function.Supplier;

import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.PolicySettings;
import org.midimesh.api.strategy.StrategyReport;
import org.midimesh.api.strategy.StrategyStatus;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.strategy.Verdict;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The JSON shapes of {@code /strategy} and of a strategy move (field names become snake_case through {@link ApiJson}),
 * and how the strategy manager's exceptions become HTTP errors. An empty text of the API (no canary strategy, a
 * decision that changed nothing) is JSON null. Stateless.
 */
final class StrategyJson {

    private StrategyJson() {
    }

    /** What a change did: {@code PUT /strategy}, {@code POST /strategy/rollback}, a pin or unpin. */
    record SwapJson(int migrated, long tookMs, List<String> failures) {

        static SwapJson of(SwapResult r) {
            return new SwapJson(r.migrated(), r.tookMs(), r.failures());
        }
    }

    /** {@code strategy} is null while no canary is set. */
    record CanaryJson(String strategy, int percent, List<Integer> steps) {

        static CanaryJson of(Canary c) {
            return new CanaryJson(emptyToNull(c.strategy()), c.percent(), c.steps());
        }
    }

    record PolicyJson(String mode, long windowMs, long holddownMs, double promoteContentionPercent,
            double rollbackP99RegressionPercent, long rollbackErrors, long rollbackDropped, long rollbackStalls,
            long minQueries, String candidate) {

        static PolicyJson of(PolicySettings p) {
            return new PolicyJson(p.mode().wireName(), p.windowMs(), p.holdDownMs(), p.promoteContentionPercent(),
                    p.rollbackP99RegressionPercent(), p.rollbackErrors(), p.rollbackDropped(), p.rollbackStalls(),
                    p.minQueries(), p.candidate());
        }
    }

    /** {@code GET /strategy}; {@code connections} and {@code pins} in key order, {@code degraded} null when fine. */
    record StatusJson(@JsonProperty("default") String defaultStrategy, CanaryJson canary, List<String> available,
            Map<String, Integer> connections, Map<String, String> pins, PolicyJson policy, String degraded) {

        static StatusJson of(StrategyStatus s) {
            Map<String, String> pins = new TreeMap<>();
            s.pins().forEach((peer, strategy) -> pins.put(peer.toString(), strategy));
            return new StatusJson(s.defaultStrategy(), CanaryJson.of(s.canary()), s.available(),
                    new TreeMap<>(s.connections()), pins, PolicyJson.of(s.policy()), s.degraded().orElse(null));
        }
    }

    /** Query latency over the window, nanoseconds. */
    record LatencyJson(long p50, long p99, long p999) {
    }

    /** {@code contention_percent} is null when it is not a number (no queries to divide by). */
    record FiguresJson(String strategy, String role, int connections, long queries, LatencyJson latencyNs,
            Double contentionPercent, long stalls, long errors, long droppedMessages) {

        static FiguresJson of(StrategyReport.Figures f) {
            return new FiguresJson(f.strategy(), f.role(), f.connections(), f.queries(),
                    new LatencyJson(f.p50Ns(), f.p99Ns(), f.p999Ns()), finite(f.contentionPercent()), f.stalls(),
                    f.errors(), f.droppedMessages());
        }
    }

    record VerdictJson(String action, String reason, Map<String, Double> figures) {

        static VerdictJson of(Verdict v) {
            return new VerdictJson(v.action().wireName(), v.reason(), finiteFigures(v.figures()));
        }
    }

    /** {@code GET /strategy/report}; {@code at} as ISO-8601 text. */
    record ReportJson(String at, long windowMs, List<FiguresJson> strategies, VerdictJson verdict) {

        static ReportJson of(StrategyReport r) {
            return new ReportJson(r.at().toString(), r.windowMs(),
                    r.strategies().stream().map(FiguresJson::of).toList(), VerdictJson.of(r.verdict()));
        }
    }

    /** One entry of {@code GET /strategy/decisions}; {@code change} null when nothing was changed. */
    record DecisionJson(String at, String source, String action, String reason, Map<String, Double> figures,
            boolean applied, String change) {

        static DecisionJson of(PolicyDecision d) {
            return new DecisionJson(d.at().toString(), d.source(), d.verdict().action().wireName(),
                    d.verdict().reason(), finiteFigures(d.verdict().figures()), d.applied(), emptyToNull(d.change()));
        }
    }

    record DecisionList(List<DecisionJson> decisions) {

        static DecisionList of(List<PolicyDecision> decisions) {
            return new DecisionList(decisions.stream().map(DecisionJson::of).toList());
        }
    }

    /** In name order; a figure that is not a finite number (no data) is null, never the text "NaN". */
    static Map<String, Double> finiteFigures(Map<String, Double> figures) {
        Map<String, Double> out = new TreeMap<>();
        figures.forEach((k, v) -> out.put(k, v == null ? null : finite(v)));
        return out;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * Runs a call of the strategy manager and maps what it refuses: {@link IllegalArgumentException} 400 with its
     * message (which names the field; {@code field}, when given, is put in front of a message that does not start
     * with it), {@link NoSuchElementException} 404, {@link IllegalStateException} (the manager is stopping) 503.
     */
    static <T> T call(Supplier<T> call, String field) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(fieldMessage(e.getMessage(), field));
        } catch (NoSuchElementException e) {
            throw ApiException.notFound(e.getMessage() == null ? "not found" : e.getMessage());
        } catch (IllegalStateException e) {
            throw new ApiException(503, "not ready: " + (e.getMessage() == null ? "the strategy manager is busy"
                    : e.getMessage()));
        }
    }

    /** {@code message}, prefixed by {@code field} unless it already starts with it. */
    static String fieldMessage(String message, String field) {
        if (message == null || message.isBlank()) {
            return (field == null ? "request" : field) + ": invalid value";
        }
        if (field == null || message.startsWith(field)) {
            return message;
        }
        return field + ": " + message;
    }
}
