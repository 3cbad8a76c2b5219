package org.midimesh.load.driver.internal;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.midimesh.api.driver.InputSink;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.load.driver.LoadCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run's generation: message {@code n} is handed to the input's sink at {@code dueNanos[n]}, each in its own
 * {@code produced} call, in sequence order. The waits are computed from the due times and the clock, never from
 * earlier waits, so wake-up errors do not add up; a late message is sent at once, never skipped. {@code sentNanos[n]}
 * is the clock read right before the {@code produced} call (or instead of it, when no route consumes the port: the
 * message is then lost, as the tool will see). Runs on the thread that calls {@link #generate} (in a node, the
 * {@code midimesh-loadgen} thread the driver starts), never under a lock.
 */
final class Generator {

    /** Waits up to the given time, or less (an unpark, an interrupt, a spurious wake-up); like parkNanos. */
    @FunctionalInterface
    interface Parker {
        void parkNanos(long nanos);
    }

    /** What a finished generation did. {@code maxLateNanos} is how late the latest message was, and its number. */
    record Result(long[] dueNanos, long[] sentNanos, long maxLateNanos, int maxLateSeq, int unsunk, int refused) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(Generator.class);
    /** The longest single park, so that a cancel is seen even if the unpark is lost. */
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final long[] dueNanos;
    private final LoadGenPort port;
    private final LongSupplier nanoTime;
    private final Parker parker;
    private final long baseNanos;
    private final long baseEpochMicros;

    // Written by ConfigAdmin's or SCR's thread (a new run, deactivation), read by the generating thread before each
    // wait; true ends the generation without a result. The writer then interrupts the thread to end its wait.
    private volatile boolean cancelled;

    /**
     * @param dueNanos        the due times on the {@code nanoTime} clock, ascending; owned by the generator from now
     * @param baseNanos       a reading of {@code nanoTime} taken ...
     * @param baseEpochMicros ... at the same moment as this reading of the epoch clock, in microseconds: together they
     *                        map a sent time to the sink's timestamp (microseconds since the epoch)
     */
    Generator(long[] dueNanos, LoadGenPort port, LongSupplier nanoTime, Parker parker, long baseNanos,
              long baseEpochMicros) {
        this.dueNanos = dueNanos;
        this.port = port;
        this.nanoTime = nanoTime;
        this.parker = parker;
        this.baseNanos = baseNanos;
        this.baseEpochMicros = baseEpochMicros;
    }

    int count() {
        return dueNanos.length;
    }

    /** Ends {@link #generate} before its next wait or message; it then returns null. Any thread. */
    void cancel() {
        cancelled = true;
    }

    /** Sends every message at its time; the result, or null when cancelled first. */
    Result generate() {
        int n = dueNanos.length;
        long[] sentNanos = new long[n];
        long maxLate = Long.MIN_VALUE;
        int maxLateSeq = -1;
        int unsunk = 0;
        int refused = 0;
        for (int seq = 0; seq < n; seq++) {
            long due = dueNanos[seq];
            MidiMessage message = LoadCodec.encode(seq); // before the clock is read: not part of the send
            if (!awaitDue(due)) {
                LOG.debug("generation cancelled after {} of {} messages", seq, n);
                return null;
            }
            InputSink sink = port.sink();
            long sent = nanoTime.getAsLong();
            if (sink == null) {
                unsunk++;
            } else {
                try {
                    sink.produced(port, List.of(message), baseEpochMicros + (sent - baseNanos) / 1_000);
                } catch (RuntimeException e) {
                    if (refused++ == 0) {
                        LOG.warn("the node refused message {} ({}); later refusals are only counted", seq, message,
                                e);
                    }
                }
            }
            sentNanos[seq] = sent;
            if (sent - due > maxLate) {
                maxLate = sent - due;
                maxLateSeq = seq;
            }
        }
        return new Result(dueNanos, sentNanos, n == 0 ? 0 : maxLate, maxLateSeq, unsunk, refused);
    }

    /** Parks until {@code due} on the clock; false when cancelled first. */
    private boolean awaitDue(long due) {
        while (!cancelled) {
            long wait = due - nanoTime.getAsLong();
            if (wait <= 0) {
                return true;
            }
            parker.parkNanos(Math.min(wait, MAX_PARK_NANOS));
        }
        return false;
    }
}
