package org.midimesh.common;

import java.time.Instant;

/** Microseconds since the Unix epoch: the clock of {@code received_at_us} and of driver input timestamps. */
public final class Micros {

    private Micros() {
    }

    /** {@code instant} in microseconds since the epoch (exact arithmetic: an overflow throws). */
    public static long sinceEpoch(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
    }

    /** Now, from the wall clock. */
    public static long now() {
        return sinceEpoch(Instant.now());
    }
}
