package org.midimesh.load.driver.internal;

import org.midimesh.load.driver.LoadCodec;

/**
 * When each message of a run is due, as nanosecond offsets from {@code t0} (the run's start plus {@code lead_ms}).
 * Base stream: {@code round(rate × seconds)} messages, message k at {@code round(k × 1e9 / rate)}. Burst stream (when
 * {@code burst_rate} and {@code burst_seconds} are both above 0): {@code round(burst_rate × burst_seconds)} messages,
 * message k at {@code round((seconds - burst_seconds) / 2 × 1e9) + round(k × 1e9 / burst_rate)}. Both merged by due
 * time, base first on ties; sequence numbers are the indexes of the merged array. Every offset is computed from its
 * index, never by adding up periods. Stateless.
 */
final class Schedule {

    /** The most messages a run may have: as many as there are sequence numbers. */
    static final long MAX_MESSAGES = LoadCodec.SEQUENCES;

    private static final double NANOS_PER_SECOND = 1e9;

    private Schedule() {
    }

    static long baseCount(LoadSettings s) {
        return s.rate() > 0 && s.seconds() > 0 ? Math.round(s.rate() * s.seconds()) : 0;
    }

    static long burstCount(LoadSettings s) {
        return s.hasBurst() ? Math.round(s.burstRate() * s.burstSeconds()) : 0;
    }

    /**
     * The due offsets of every message, in sequence order.
     *
     * @throws IllegalArgumentException naming the numbers when the run would have more than {@value #MAX_MESSAGES}
     *                                  messages, or when the settings are not a schedule
     */
    static long[] offsets(LoadSettings s) {
        String problem = s.scheduleProblem();
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        long nBase = baseCount(s);
        long nBurst = burstCount(s);
        // each count on its own first: a huge rate × seconds rounds to Long.MAX_VALUE, and the sum would overflow
        if (nBase > MAX_MESSAGES || nBurst > MAX_MESSAGES || nBase + nBurst > MAX_MESSAGES) {
            throw new IllegalArgumentException(String.format("a run of base %d (%s/s × %s s) + burst %d (%s/s × %s s)"
                    + " messages is more than the %d allowed", nBase, s.rate(), s.seconds(), nBurst, s.burstRate(),
                    s.burstSeconds(), MAX_MESSAGES));
        }
        long[] base = new long[(int) nBase];
        for (int k = 0; k < base.length; k++) {
            base[k] = Math.round(k * NANOS_PER_SECOND / s.rate());
        }
        long[] burst = new long[(int) nBurst];
        long burstStart = Math.round((s.seconds() - s.burstSeconds()) / 2 * NANOS_PER_SECOND);
        for (int k = 0; k < burst.length; k++) {
            burst[k] = burstStart + Math.round(k * NANOS_PER_SECOND / s.burstRate());
        }
        return merge(base, burst);
    }

    /** Both sorted arrays as one, sorted; on equal values the one from {@code first} comes first. */
    static long[] merge(long[] first, long[] second) {
        long[] all = new long[first.length + second.length];
        int i = 0;
        int j = 0;
        for (int n = 0; n < all.length; n++) {
            if (j == second.length || (i < first.length && first[i] <= second[j])) {
                all[n] = first[i++];
            } else {
                all[n] = second[j++];
            }
        }
        return all;
    }
}
