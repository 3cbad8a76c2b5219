package org.midimesh.http.internal;

import java.util.List;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.http.internal.StrategyJson.DecisionList;
import org.midimesh.http.internal.StrategyJson.ReportJson;
import org.midimesh.http.internal.StrategyJson.StatusJson;
import org.midimesh.http.internal.StrategyJson.SwapJson;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.servlet.Servlet;

/**
 * The {@code /strategy} area: the connection strategy settings (default, canary, pins), changing them (hot swap),
 * rolling back, the side-by-side report and the policy's decisions. Everything goes through {@link StrategyControl}
 * (503 while it is missing); its {@link IllegalArgumentException}s become 400. A change answers once the strategy
 * manager has moved the affected connections, so the request thread may wait that long (bounded by the manager's
 * swap timeout). Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=strategy")
@HttpWhiteboardServletPattern({"/strategy", "/strategy/*"})
@HttpWhiteboardServletName("midimesh-strategy")
public class StrategyServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    /** Longest rollback reason kept in the decision log. */
    static final int MAX_REASON = 500;

    private final LocalNode node;

    // Written by SCR on bind/unbind, read once per request on Jetty threads; the volatile write publishes the fully
    // constructed service. null while the strategy manager is missing (every endpoint then answers 503).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile StrategyControl control;

    /**
     * {@code PUT /strategy}. A class rather than a record: a field left out (unchanged) must differ from one set to
     * null ({@code "canary": null} switches the canary off). Filled by Jackson on the request thread.
     */
    static final class ChangeBody {
        private boolean defaultGiven;
        private String defaultStrategy;
        private boolean canaryGiven;
        private CanaryBody canary;

        @JsonProperty("default")
        void setDefault(String value) {
            defaultGiven = true;
            defaultStrategy = value;
        }

        @JsonProperty("canary")
        void setCanary(CanaryBody value) {
            canaryGiven = true;
            canary = value;
        }
    }

    /** {@code steps} may be left out (no progressive canary). */
    record CanaryBody(String strategy, Integer percent, List<Integer> steps) {
    }

    record RollbackBody(String reason) {
    }

    @Activate
    public StrategyServlet(@Reference(name = "localNode") LocalNode node) {
        this.node = node;
        get("/strategy", x -> Reply.ok(StatusJson.of(control().status())));
        withBody("PUT", "/strategy", true, ChangeBody.class, this::change);
        withOptionalBody("POST", "/strategy/rollback", RollbackBody.class, this::rollback);
        get("/strategy/report", x -> Reply.ok(ReportJson.of(control().report())));
        get("/strategy/decisions", x -> Reply.ok(DecisionList.of(control().decisions())));
    }

    @Override
    protected LocalNode adminNode() {
        return node;
    }

    private StrategyControl control() {
        return require(control, "the strategy manager");
    }

    private Reply change(Exchange x, ChangeBody body) {
        if (!body.defaultGiven && !body.canaryGiven) {
            throw ApiException.badRequest("nothing to change: give default, canary or both");
        }
        Optional<String> defaultStrategy = Optional.empty();
        if (body.defaultGiven) {
            if (body.defaultStrategy == null) {
                throw ApiException.badRequest("default must be a strategy name, not null");
            }
            defaultStrategy = Optional.of(body.defaultStrategy);
        }
        Optional<Canary> canary = body.canaryGiven ? Optional.of(canary(body.canary)) : Optional.empty();
        StrategyControl c = control();
        StrategyChange change = new StrategyChange(defaultStrategy, canary);
        SwapResult result = StrategyJson.call(() -> c.change(change), null);
        return Reply.ok(SwapJson.of(result));
    }

    /** null or percent 0: no canary; otherwise percent is required and the rest is checked by {@link Canary}. */
    static Canary canary(CanaryBody body) {
        if (body == null || (body.percent() != null && body.percent() == 0)) {
            return Canary.NONE;
        }
        if (body.percent() == null) {
            throw ApiException.badRequest("canary.percent is missing (0 switches the canary off)");
        }
        List<Integer> steps = body.steps() == null ? List.of() : body.steps();
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i) == null) {
                throw ApiException.badRequest("canary.steps[" + i + "]: expected an integer");
            }
        }
        try {
            return new Canary(body.strategy() == null ? "" : body.strategy(), body.percent(), steps);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(StrategyJson.fieldMessage(e.getMessage(), "canary"));
        }
    }

    private Reply rollback(Exchange x, RollbackBody body) {
        String reason = body == null || body.reason() == null ? "" : body.reason();
        if (reason.length() > MAX_REASON) {
            throw ApiException.badRequest("reason must be at most " + MAX_REASON + " characters, not "
                    + reason.length());
        }
        if (reason.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("reason must not contain control characters");
        }
        StrategyControl c = control();
        // blank: the manager records its own "asked for by an operator"
        return Reply.ok(SwapJson.of(StrategyJson.call(() -> c.rollback(reason.strip()), null)));
    }
}
