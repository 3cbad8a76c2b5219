package org.midimesh.example.clock;

import java.util.ArrayList;
import java.util.List;

import org.midimesh.api.midi.MidiMessage;

/**
 * What the clock sends, and when, as a pure function of time: given the time now, the settings and whether anyone
 * listens (the port has a sink), {@link #step} returns the messages due, each with the time it was due. The clock
 * thread calls it each time it wakes up and sleeps until {@link #nextWakeNanos()}; tests call it with a time of their
 * own.
 * <ul>
 *   <li>Running and listened to: 0xFA (start) and the first 0xF8 at once, then 0xF8 at 24 per quarter note.</li>
 *   <li>Set to not running: 0xFC (stop), then nothing. The sink going away stops it silently (nowhere to send).</li>
 *   <li>A tempo change applies from the next tick ({@link TickSchedule#retempo}).</li>
 *   <li>Ticks due while the thread was late are sent at once, each with its own due time, up to
 *   {@value #MAX_CATCH_UP} (one quarter note); after a longer stall (a suspended machine) the ticks missed are
 *   counted as skipped and the clock starts over from now instead of sending a burst.</li>
 * </ul>
 * <p>Not thread-safe: owned by the clock thread (or a test).
 */
final class ClockEngine {

    static final MidiMessage TIMING_CLOCK = MidiMessage.of((byte) 0xF8);
    static final MidiMessage START = MidiMessage.of((byte) 0xFA);
    static final MidiMessage STOP = MidiMessage.of((byte) 0xFC);
    static final int MAX_CATCH_UP = TickSchedule.TICKS_PER_QUARTER;

    /** A message and when it was due ({@code System.nanoTime()} time). */
    record Emission(MidiMessage message, long atNanos) {
    }

    /** Null while the clock is stopped. */
    private TickSchedule schedule;
    private long skipped;

    /** The messages due at {@code nowNanos}, oldest first. */
    List<Emission> step(long nowNanos, Settings settings, boolean listened) {
        List<Emission> out = new ArrayList<>();
        boolean run = settings.running() && listened;
        if (schedule != null && !run) {
            if (listened) {
                out.add(new Emission(STOP, nowNanos));
            }
            schedule = null;
            return out;
        }
        if (schedule == null) {
            if (!run) {
                return out;
            }
            out.add(new Emission(START, nowNanos));
            schedule = new TickSchedule(nowNanos, settings.bpm());
        } else if (schedule.bpm() != settings.bpm()) {
            schedule.retempo(settings.bpm());
        }
        long due = schedule.dueBy(nowNanos);
        if (due > MAX_CATCH_UP) {
            skipped += due - 1;
            schedule.restartAt(nowNanos);
            due = 1;
        }
        for (long i = 0; i < due; i++) {
            out.add(new Emission(TIMING_CLOCK, schedule.advance()));
        }
        return out;
    }

    /** When {@link #step} has something to send next; {@link Long#MAX_VALUE} while stopped (wait to be woken). */
    long nextWakeNanos() {
        return schedule == null ? Long.MAX_VALUE : schedule.nextDue();
    }

    boolean running() {
        return schedule != null;
    }

    /** Ticks skipped after stalls longer than {@value #MAX_CATCH_UP} ticks. */
    long skipped() {
        return skipped;
    }
}
