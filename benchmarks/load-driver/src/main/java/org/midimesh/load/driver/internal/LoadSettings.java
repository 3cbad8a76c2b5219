package org.midimesh.load.driver.internal;

import java.util.regex.Pattern;

/**
 * The configuration of PID {@code org.midimesh.loadtest}, as read. Immutable.
 *
 * @param run          the run id; a new non-empty value starts a run
 * @param generate     whether this node generates (only the sending node does)
 * @param rate         base stream, messages a second
 * @param seconds      base stream, how long
 * @param burstRate    burst stream, messages a second (0: no burst)
 * @param burstSeconds burst stream, how long (0: no burst), centred in the base stream
 * @param leadMs       how long after the run starts the first message is due
 * @param collect      when equal to the current run id, the recorder writes its file
 */
record LoadSettings(String run, boolean generate, double rate, double seconds, double burstRate, double burstSeconds,
                    long leadMs, String collect) {

    static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    static final double DEFAULT_RATE = 1000;
    static final double DEFAULT_SECONDS = 10;
    static final long DEFAULT_LEAD_MS = 300;

    LoadSettings {
        run = run == null ? "" : run.trim();
        collect = collect == null ? "" : collect.trim();
    }

    /** The settings of a run with the given schedule, nothing else. */
    static LoadSettings schedule(double rate, double seconds, double burstRate, double burstSeconds) {
        return new LoadSettings("", true, rate, seconds, burstRate, burstSeconds, 0, "");
    }

    boolean hasBurst() {
        return burstRate > 0 && burstSeconds > 0;
    }

    /** Why a run id cannot be used (it names a file), or null when it can. */
    static String runIdProblem(String run) {
        return RUN_ID.matcher(run).matches() ? null
                : "run id \"" + run + "\" does not match " + RUN_ID.pattern();
    }

    /** Why this schedule cannot be generated (apart from its size, which {@link Schedule} checks), or null. */
    String scheduleProblem() {
        if (!(Double.isFinite(rate) && rate >= 0 && Double.isFinite(seconds) && seconds >= 0)) {
            return "rate " + rate + " and seconds " + seconds + " must be finite and not negative";
        }
        if (!(Double.isFinite(burstRate) && burstRate >= 0 && Double.isFinite(burstSeconds) && burstSeconds >= 0)) {
            return "burst_rate " + burstRate + " and burst_seconds " + burstSeconds
                    + " must be finite and not negative";
        }
        if (leadMs < 0) {
            return "lead_ms " + leadMs + " is negative";
        }
        return null;
    }
}
