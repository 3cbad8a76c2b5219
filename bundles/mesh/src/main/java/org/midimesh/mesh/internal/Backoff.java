package org.midimesh.mesh.internal;

/**
 * The redial delay: {@code initialMs} doubled per failure in a row, at most {@code maxMs}. Immutable; any thread.
 *
 * @param initialMs delay after the first failure
 * @param maxMs     longest delay
 */
record Backoff(long initialMs, long maxMs) {

    static Backoff of(MeshConfig config) {
        return new Backoff(config.reconnect_initial_ms(), config.reconnect_max_ms());
    }

    /** The delay before the next attempt, after {@code failuresBefore} earlier failures in a row (0 for the first). */
    long delayMs(int failuresBefore) {
        long d = initialMs << Math.min(Math.max(failuresBefore, 0), 16);
        return Math.min(d, maxMs);
    }
}
