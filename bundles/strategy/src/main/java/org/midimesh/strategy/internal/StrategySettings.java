package org.midimesh.strategy.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.midimesh.api.NodeId;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyMode;
import org.midimesh.api.strategy.PolicySettings;

/**
 * Everything configuration PID {@value #PID} holds: the default, the canary, the pins, the policy, and how swaps run.
 * Immutable; parsed from ConfigAdmin properties or the file in {@code <data-dir>/etc}, written back as properties.
 * Parsing rejects a bad value with an {@link IllegalArgumentException} naming its key, and changes nothing.
 *
 * @param swapTimeoutMs bound of one connection's move, and of what an unbinding strategy waits for its connections
 * @param swapThreads   connections moved in parallel
 * @param graceMs       after start, how long a connection waits for its strategy before it takes another
 */
record StrategySettings(String defaultStrategy, Canary canary, Map<NodeId, String> pins, PolicySettings policy,
        long swapTimeoutMs, int swapThreads, long graceMs) {

    static final String PID = "org.midimesh.strategy";

    static final String DEFAULT = "default";
    static final String CANARY_STRATEGY = "canary.strategy";
    static final String CANARY_PERCENT = "canary.percent";
    static final String CANARY_STEPS = "canary.steps";
    static final String PINS = "pins";
    static final String POLICY_MODE = "policy.mode";
    static final String POLICY_WINDOW_MS = "policy.window.ms";
    static final String POLICY_HOLDDOWN_MS = "policy.holddown.ms";
    static final String POLICY_PROMOTE_CONTENTION = "policy.promote.contention.percent";
    static final String POLICY_ROLLBACK_P99 = "policy.rollback.p99.regression.percent";
    static final String POLICY_ROLLBACK_ERRORS = "policy.rollback.errors";
    static final String POLICY_ROLLBACK_DROPPED = "policy.rollback.dropped";
    static final String POLICY_ROLLBACK_STALLS = "policy.rollback.stalls";
    static final String POLICY_MIN_QUERIES = "policy.min.queries";
    static final String POLICY_CANDIDATE = "policy.candidate";
    static final String SWAP_TIMEOUT_MS = "swap.timeout.ms";
    static final String SWAP_THREADS = "swap.threads";
    static final String GRACE_MS = "grace.ms";

    /** Every key, in the order the file lists them. */
    static final List<String> KEYS = List.of(DEFAULT, CANARY_STRATEGY, CANARY_PERCENT, CANARY_STEPS, PINS,
            POLICY_MODE, POLICY_WINDOW_MS, POLICY_HOLDDOWN_MS, POLICY_PROMOTE_CONTENTION, POLICY_ROLLBACK_P99,
            POLICY_ROLLBACK_ERRORS, POLICY_ROLLBACK_DROPPED, POLICY_ROLLBACK_STALLS, POLICY_MIN_QUERIES,
            POLICY_CANDIDATE, SWAP_TIMEOUT_MS, SWAP_THREADS, GRACE_MS);

    static final String DEFAULT_STRATEGY = "mutex";
    static final long DEFAULT_WINDOW_MS = 60_000;
    static final long DEFAULT_HOLDDOWN_MS = 300_000;
    static final double DEFAULT_PROMOTE_CONTENTION = 5.0;
    static final double DEFAULT_ROLLBACK_P99 = 10.0;
    static final long DEFAULT_MIN_QUERIES = 1000;
    static final String DEFAULT_CANDIDATE = "seda";
    static final long DEFAULT_SWAP_TIMEOUT_MS = 5000;
    static final int DEFAULT_SWAP_THREADS = 4;
    static final long DEFAULT_GRACE_MS = 2000;

    /** A strategy name: what the launcher's --strategy accepts. */
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,31}");

    static final StrategySettings DEFAULTS = new StrategySettings(DEFAULT_STRATEGY, Canary.NONE, Map.of(),
            new PolicySettings(PolicyMode.MANUAL, DEFAULT_WINDOW_MS, DEFAULT_HOLDDOWN_MS, DEFAULT_PROMOTE_CONTENTION,
                    DEFAULT_ROLLBACK_P99, 0, 0, 0, DEFAULT_MIN_QUERIES, DEFAULT_CANDIDATE),
            DEFAULT_SWAP_TIMEOUT_MS, DEFAULT_SWAP_THREADS, DEFAULT_GRACE_MS);

    StrategySettings {
        Objects.requireNonNull(defaultStrategy, "default");
        Objects.requireNonNull(canary, "canary");
        Objects.requireNonNull(policy, "policy");
        pins = Map.copyOf(pins);
    }

    StrategySettings withDefault(String name) {
        return new StrategySettings(name, canary, pins, policy, swapTimeoutMs, swapThreads, graceMs);
    }

    StrategySettings withCanary(Canary c) {
        return new StrategySettings(defaultStrategy, c, pins, policy, swapTimeoutMs, swapThreads, graceMs);
    }

    StrategySettings withPins(Map<NodeId, String> p) {
        return new StrategySettings(defaultStrategy, canary, p, policy, swapTimeoutMs, swapThreads, graceMs);
    }

    /**
     * The settings {@code props} give, on top of {@link #DEFAULTS}; keys it does not know (ConfigAdmin's and
     * FileInstall's own, for instance) are ignored.
     *
     * @throws IllegalArgumentException naming the key of the first bad value
     */
    static StrategySettings parse(Map<String, ?> props) {
        StrategySettings d = DEFAULTS;
        PolicySettings p = d.policy();
        String def = name(props, DEFAULT, d.defaultStrategy());
        String canaryStrategy = props.containsKey(CANARY_STRATEGY) ? text(props.get(CANARY_STRATEGY)).trim() : "";
        if (!canaryStrategy.isEmpty() && !NAME.matcher(canaryStrategy).matches()) {
            throw bad(CANARY_STRATEGY, "must be a strategy name", canaryStrategy);
        }
        int percent = (int) number(props, CANARY_PERCENT, 0, 0, 100);
        List<Integer> steps = steps(props.get(CANARY_STEPS));
        Canary canary = new Canary(canaryStrategy, percent, steps); // its messages name the canary.* keys
        Map<NodeId, String> pins = pins(props.get(PINS));
        String modeText = props.containsKey(POLICY_MODE) ? text(props.get(POLICY_MODE)).trim() : "manual";
        PolicyMode mode = switch (modeText) {
            case "manual" -> PolicyMode.MANUAL;
            case "auto" -> PolicyMode.AUTO;
            default -> throw bad(POLICY_MODE, "must be manual or auto", modeText);
        };
        PolicySettings policy = new PolicySettings(mode,
                number(props, POLICY_WINDOW_MS, p.windowMs(), 100, 86_400_000L),
                number(props, POLICY_HOLDDOWN_MS, p.holdDownMs(), 0, 86_400_000L),
                decimal(props, POLICY_PROMOTE_CONTENTION, p.promoteContentionPercent()),
                decimal(props, POLICY_ROLLBACK_P99, p.rollbackP99RegressionPercent()),
                number(props, POLICY_ROLLBACK_ERRORS, 0, 0, Long.MAX_VALUE),
                number(props, POLICY_ROLLBACK_DROPPED, 0, 0, Long.MAX_VALUE),
                number(props, POLICY_ROLLBACK_STALLS, 0, 0, Long.MAX_VALUE),
                number(props, POLICY_MIN_QUERIES, p.minQueries(), 0, Long.MAX_VALUE),
                name(props, POLICY_CANDIDATE, p.candidate()));
        return new StrategySettings(def, canary, pins, policy,
                number(props, SWAP_TIMEOUT_MS, d.swapTimeoutMs(), 1, 600_000),
                (int) number(props, SWAP_THREADS, d.swapThreads(), 1, 64),
                number(props, GRACE_MS, d.graceMs(), 0, 600_000));
    }

    /** The settings as properties, every key, values as text (what the .cfg file holds). */
    Map<String, String> toProperties() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(DEFAULT, defaultStrategy);
        m.put(CANARY_STRATEGY, canary.strategy());
        m.put(CANARY_PERCENT, Integer.toString(canary.percent()));
        m.put(CANARY_STEPS, String.join(",", canary.steps().stream().map(String::valueOf).toList()));
        List<String> p = new ArrayList<>();
        new TreeMap<>(pins).forEach((k, v) -> p.add(k + "=" + v));
        m.put(PINS, String.join(",", p));
        m.put(POLICY_MODE, policy.mode().wireName());
        m.put(POLICY_WINDOW_MS, Long.toString(policy.windowMs()));
        m.put(POLICY_HOLDDOWN_MS, Long.toString(policy.holdDownMs()));
        m.put(POLICY_PROMOTE_CONTENTION, decimalText(policy.promoteContentionPercent()));
        m.put(POLICY_ROLLBACK_P99, decimalText(policy.rollbackP99RegressionPercent()));
        m.put(POLICY_ROLLBACK_ERRORS, Long.toString(policy.rollbackErrors()));
        m.put(POLICY_ROLLBACK_DROPPED, Long.toString(policy.rollbackDropped()));
        m.put(POLICY_ROLLBACK_STALLS, Long.toString(policy.rollbackStalls()));
        m.put(POLICY_MIN_QUERIES, Long.toString(policy.minQueries()));
        m.put(POLICY_CANDIDATE, policy.candidate());
        m.put(SWAP_TIMEOUT_MS, Long.toString(swapTimeoutMs));
        m.put(SWAP_THREADS, Integer.toString(swapThreads));
        m.put(GRACE_MS, Long.toString(graceMs));
        return m;
    }

    private static String decimalText(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static IllegalArgumentException bad(String key, String rule, Object value) {
        return new IllegalArgumentException(key + " " + rule + ", not '" + value + "'");
    }

    /** A value as text: arrays and collections (typed configurations) joined with commas. */
    private static String text(Object v) {
        if (v instanceof String[] a) {
            return String.join(",", a);
        }
        if (v instanceof Collection<?> c) {
            return String.join(",", c.stream().map(String::valueOf).toList());
        }
        if (v != null && v.getClass().isArray()) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < java.lang.reflect.Array.getLength(v); i++) {
                parts.add(String.valueOf(java.lang.reflect.Array.get(v, i)));
            }
            return String.join(",", parts);
        }
        return String.valueOf(v);
    }

    private static String name(Map<String, ?> props, String key, String fallback) {
        if (!props.containsKey(key)) {
            return fallback;
        }
        String v = text(props.get(key)).trim();
        if (!NAME.matcher(v).matches()) {
            throw bad(key, "must be a strategy name (a-z, 0-9, -; up to 32)", v);
        }
        return v;
    }

    private static long number(Map<String, ?> props, String key, long fallback, long min, long max) {
        Object v = props.get(key);
        if (v == null || text(v).isBlank()) {
            return fallback;
        }
        long n;
        if (v instanceof Number num) {
            n = num.longValue();
        } else {
            try {
                n = Long.parseLong(text(v).trim());
            } catch (NumberFormatException e) {
                throw bad(key, "must be a whole number", v);
            }
        }
        if (n < min || n > max) {
            throw bad(key, "must be " + min + ".." + max, n);
        }
        return n;
    }

    private static double decimal(Map<String, ?> props, String key, double fallback) {
        Object v = props.get(key);
        if (v == null || text(v).isBlank()) {
            return fallback;
        }
        double d;
        try {
            d = v instanceof Number num ? num.doubleValue() : Double.parseDouble(text(v).trim());
        } catch (NumberFormatException e) {
            throw bad(key, "must be a number", v);
        }
        if (!(d >= 0 && d <= 1000)) {
            throw bad(key, "must be 0..1000", v);
        }
        return d;
    }

    private static List<Integer> steps(Object v) {
        List<Integer> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        for (String part : text(v).split(",")) {
            if (part.isBlank()) {
                continue;
            }
            try {
                out.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                throw bad(CANARY_STEPS, "must be percents separated by commas", text(v));
            }
        }
        return out;
    }

    private static Map<NodeId, String> pins(Object v) {
        Map<NodeId, String> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        for (String part : text(v).split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw bad(PINS, "must be node-id=strategy pairs separated by commas", part.trim());
            }
            NodeId id;
            try {
                id = NodeId.parse(part.substring(0, eq).trim());
            } catch (IllegalArgumentException e) {
                throw bad(PINS, "needs a node id (UUID) before '='", part.trim());
            }
            String s = part.substring(eq + 1).trim();
            if (!NAME.matcher(s).matches()) {
                throw bad(PINS, "needs a strategy name after '='", part.trim());
            }
            out.put(id, s);
        }
        return out;
    }
}
