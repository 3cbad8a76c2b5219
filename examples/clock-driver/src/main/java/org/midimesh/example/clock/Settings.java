package org.midimesh.example.clock;

/**
 * The clock's configuration, checked. Immutable.
 *
 * @param bpm     quarter notes per minute, {@value #MIN_BPM}..{@value #MAX_BPM}
 * @param running whether the clock runs (sends start, then ticks) or is stopped (sent stop)
 */
record Settings(double bpm, boolean running) {

    static final double MIN_BPM = 20;
    static final double MAX_BPM = 300;
    static final double DEFAULT_BPM = 120;

    /** The settings for a configured tempo: NaN gives the default, values out of range the nearest limit. */
    static Settings of(double bpm, boolean running) {
        return new Settings(checkedBpm(bpm), running);
    }

    static double checkedBpm(double bpm) {
        if (Double.isNaN(bpm)) {
            return DEFAULT_BPM;
        }
        return Math.max(MIN_BPM, Math.min(MAX_BPM, bpm));
    }
}
