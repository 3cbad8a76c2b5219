package org.midimesh.strategy.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Metatype of PID {@value StrategySettings#PID}: names, units and defaults for tools and the reader of the file. The
 * manager parses and checks the raw properties itself ({@link StrategySettings#parse}), so a bad value is refused with
 * its key named instead of silently coerced.
 */
@ObjectClassDefinition(id = StrategySettings.PID, name = "MidiMesh connection strategies",
        description = "Which strategy runs which connection: default, canary, pins, the canary policy, swaps")
@interface StrategyConfig {

    @AttributeDefinition(name = "Default strategy", description = "Runs every connection that is neither pinned nor "
            + "in the canary; the --strategy option wins over this at start")
    String default$() default StrategySettings.DEFAULT_STRATEGY;

    @AttributeDefinition(name = "Canary strategy", required = false)
    String canary_strategy() default "";

    @AttributeDefinition(name = "Canary share (percent)", min = "0", max = "100",
            description = "Connections whose peer's stable hash (0..99) is below this run the canary strategy")
    int canary_percent() default 0;

    @AttributeDefinition(name = "Canary steps (percents)", required = false,
            description = "Progressive canary: comma-separated ascending percents the policy advances through")
    String canary_steps() default "";

    @AttributeDefinition(name = "Pins", required = false,
            description = "node-id=strategy pairs, comma-separated: those peers' connections run that strategy")
    String pins() default "";

    @AttributeDefinition(name = "Policy mode", options = {
        @org.osgi.service.metatype.annotations.Option(label = "manual: only recommend", value = "manual"),
        @org.osgi.service.metatype.annotations.Option(label = "auto: act", value = "auto")})
    String policy_mode() default "manual";

    @AttributeDefinition(name = "Policy window (ms)", min = "100")
    long policy_window_ms() default StrategySettings.DEFAULT_WINDOW_MS;

    @AttributeDefinition(name = "Policy hold-down (ms)", min = "0",
            description = "Least time between two automatic actions, and before re-promoting what was rolled back")
    long policy_holddown_ms() default StrategySettings.DEFAULT_HOLDDOWN_MS;

    @AttributeDefinition(name = "Promote above contention (percent)")
    double policy_promote_contention_percent() default StrategySettings.DEFAULT_PROMOTE_CONTENTION;

    @AttributeDefinition(name = "Roll back above p99 regression (percent)")
    double policy_rollback_p99_regression_percent() default StrategySettings.DEFAULT_ROLLBACK_P99;

    @AttributeDefinition(name = "Roll back above canary errors per window", min = "0")
    long policy_rollback_errors() default 0;

    @AttributeDefinition(name = "Roll back above canary dropped messages per window", min = "0")
    long policy_rollback_dropped() default 0;

    @AttributeDefinition(name = "Roll back above canary stalls per window", min = "0")
    long policy_rollback_stalls() default 0;

    @AttributeDefinition(name = "Least queries per window for a verdict", min = "0")
    long policy_min_queries() default StrategySettings.DEFAULT_MIN_QUERIES;

    @AttributeDefinition(name = "Promotion candidate", description = "What contention promotes to without a canary")
    String policy_candidate() default StrategySettings.DEFAULT_CANDIDATE;

    @AttributeDefinition(name = "Swap timeout (ms)", min = "1",
            description = "Bound of one connection's move, and of the wait in a leaving strategy's unbind")
    long swap_timeout_ms() default StrategySettings.DEFAULT_SWAP_TIMEOUT_MS;

    @AttributeDefinition(name = "Swap threads", min = "1", max = "64")
    int swap_threads() default StrategySettings.DEFAULT_SWAP_THREADS;

    @AttributeDefinition(name = "Start-up grace (ms)", min = "0",
            description = "After start, how long a connection waits for its strategy to appear before taking another")
    long grace_ms() default StrategySettings.DEFAULT_GRACE_MS;
}
