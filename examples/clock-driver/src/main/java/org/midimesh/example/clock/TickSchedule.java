package org.midimesh.example.clock;

/**
 * When each MIDI clock tick of a running clock is due, in {@code System.nanoTime()} time: 24 ticks per quarter note.
 * Tick {@code n} of a segment is due at {@code anchor + round(n * period)}, computed from the segment's start and the
 * count, never by adding periods up, so rounding never accumulates: at 120 BPM tick 2880 is due exactly one minute
 * after tick 0. A tempo change starts a new segment one new period after the last tick emitted, so no tick is lost
 * or doubled and the tick after the change already has the new spacing.
 * <p>Not thread-safe: owned by the clock thread (or a test).
 */
final class TickSchedule {

    static final int TICKS_PER_QUARTER = 24;

    private long anchorNanos;
    private double periodNanos;
    private double bpm;
    /** Ticks of the current segment emitted so far. */
    private long emitted;

    /** A schedule whose first tick is due at {@code startNanos}. */
    TickSchedule(long startNanos, double bpm) {
        this.anchorNanos = startNanos;
        this.bpm = bpm;
        this.periodNanos = periodNanos(bpm);
    }

    /** Nanoseconds between two ticks at {@code bpm} beats (quarter notes) per minute. */
    static double periodNanos(double bpm) {
        return 60e9 / (bpm * TICKS_PER_QUARTER);
    }

    double bpm() {
        return bpm;
    }

    /** When the next tick is due. */
    long nextDue() {
        return due(emitted);
    }

    private long due(long n) {
        return anchorNanos + Math.round(n * periodNanos);
    }

    /** How many ticks are due at {@code nowNanos} and not yet emitted. */
    long dueBy(long nowNanos) {
        if (nowNanos < nextDue()) {
            return 0;
        }
        long last = (long) Math.floor((nowNanos - anchorNanos) / periodNanos); // within one of the last tick due
        while (due(last + 1) <= nowNanos) {
            last++;
        }
        while (last >= emitted && due(last) > nowNanos) {
            last--;
        }
        return last + 1 - emitted;
    }

    /** Marks the next tick emitted; returns when it was due. */
    long advance() {
        long due = nextDue();
        emitted++;
        return due;
    }

    /** Goes on at another tempo: the next tick is due one new period after the last one emitted. */
    void retempo(double newBpm) {
        double newPeriod = periodNanos(newBpm);
        if (emitted > 0) {
            anchorNanos = due(emitted - 1) + Math.round(newPeriod);
            emitted = 0;
        }
        bpm = newBpm;
        periodNanos = newPeriod;
    }

    /** Starts a new segment whose first tick is due at {@code nowNanos}, at the same tempo. */
    void restartAt(long nowNanos) {
        anchorNanos = nowNanos;
        emitted = 0;
    }
}
