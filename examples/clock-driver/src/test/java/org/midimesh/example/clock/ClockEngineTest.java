package org.midimesh.example.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.midi.MidiMessage;

/** The clock's behaviour on a time the test controls: no thread, no sleep. */
@Timeout(5)
class ClockEngineTest {

    private static final long T0 = 5_000_000_000L;
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;
    private static final Settings RUN_120 = Settings.of(120, true);

    private final ClockEngine engine = new ClockEngine();

    @Test
    void startSendsStartAndTheFirstTickThenTicksAtTempo() {
        List<ClockEngine.Emission> first = engine.step(T0, RUN_120, true);
        assertEquals(List.of(ClockEngine.START, ClockEngine.TIMING_CLOCK), messages(first));
        assertEquals(List.of(T0, T0), first.stream().map(ClockEngine.Emission::atNanos).toList());
        assertEquals(T0 + 20_833_333, engine.nextWakeNanos());

        List<ClockEngine.Emission> all = new ArrayList<>(first);
        for (long t = T0 + MS; t <= T0 + 2 * SECOND; t += MS) { // a thread waking every millisecond for 2 s
            all.addAll(engine.step(t, RUN_120, true));
        }
        List<ClockEngine.Emission> ticks = all.stream().filter(e -> e.message().equals(ClockEngine.TIMING_CLOCK))
                .toList();
        assertEquals(97, ticks.size(), "ticks 0..96: 48 a second at 120 BPM");
        for (int i = 1; i < ticks.size(); i++) {
            long gap = ticks.get(i).atNanos() - ticks.get(i - 1).atNanos();
            assertTrue(gap == 20_833_333 || gap == 20_833_334, "spacing of tick " + i + ": " + gap);
        }
        assertEquals(T0 + 2 * SECOND, ticks.get(96).atNanos());
    }

    @Test
    void aLateWakeUpSendsTheMissedTicksWithTheirOwnTimes() {
        engine.step(T0, RUN_120, true);
        List<ClockEngine.Emission> late = engine.step(T0 + 100 * MS, RUN_120, true);
        assertEquals(4, late.size(), "ticks 1..4 were due by 100 ms");
        assertEquals(T0 + 4 * 20_833_333 + 1, late.get(3).atNanos());
        assertEquals(0, engine.skipped());
    }

    @Test
    void aStallLongerThanAQuarterNoteSkipsAndStartsOverFromNow() {
        engine.step(T0, RUN_120, true);
        List<ClockEngine.Emission> after = engine.step(T0 + 10 * SECOND, RUN_120, true);
        assertEquals(List.of(ClockEngine.TIMING_CLOCK), messages(after), "no burst of 480 ticks");
        assertEquals(T0 + 10 * SECOND, after.get(0).atNanos());
        assertEquals(479, engine.skipped());
        assertEquals(T0 + 10 * SECOND + 20_833_333, engine.nextWakeNanos());
    }

    @Test
    void stopSendsStopThenNothingAndStartSendsStartAgain() {
        engine.step(T0, RUN_120, true);
        Settings stopped = Settings.of(120, false);
        assertEquals(List.of(ClockEngine.STOP), messages(engine.step(T0 + 10 * MS, stopped, true)));
        assertFalse(engine.running());
        assertEquals(Long.MAX_VALUE, engine.nextWakeNanos(), "stopped: sleeps until told");
        assertEquals(List.of(), engine.step(T0 + SECOND, stopped, true));

        List<ClockEngine.Emission> again = engine.step(T0 + 2 * SECOND, RUN_120, true);
        assertEquals(List.of(ClockEngine.START, ClockEngine.TIMING_CLOCK), messages(again));
        assertEquals(T0 + 2 * SECOND, again.get(1).atNanos(), "a new start counts from now");
    }

    @Test
    void nothingIsSentUntilSomeoneListensAndLosingTheSinkStopsSilently() {
        assertEquals(List.of(), engine.step(T0, RUN_120, false));
        assertEquals(Long.MAX_VALUE, engine.nextWakeNanos());
        assertEquals(List.of(ClockEngine.START, ClockEngine.TIMING_CLOCK),
                messages(engine.step(T0 + SECOND, RUN_120, true)));
        assertEquals(List.of(), engine.step(T0 + 2 * SECOND, RUN_120, false), "no sink: nowhere to send stop");
        assertFalse(engine.running());
    }

    @Test
    void aTempoChangeAppliesFromTheNextTick() {
        engine.step(T0, RUN_120, true);
        engine.step(T0 + 20_833_333, RUN_120, true); // tick 1
        Settings fast = Settings.of(240, true);
        assertEquals(List.of(), engine.step(T0 + 30 * MS, fast, true), "the change itself sends nothing");
        long next = T0 + 20_833_333 + 10_416_667;
        assertEquals(next, engine.nextWakeNanos(), "one 240 BPM period after tick 1");
        List<ClockEngine.Emission> ticks = new ArrayList<>();
        for (long t = T0 + 31 * MS; t < next + SECOND + MS; t += MS) {
            ticks.addAll(engine.step(t, fast, true));
        }
        assertEquals(97, ticks.size(), "96 a second at 240 BPM, and the one at the start of that second");
        assertEquals(next, ticks.get(0).atNanos());
        assertEquals(next + SECOND, ticks.get(96).atNanos());
    }

    @Test
    void settingsKeepTheTempoInRange() {
        assertEquals(20, Settings.of(5, true).bpm());
        assertEquals(300, Settings.of(1000, true).bpm());
        assertEquals(120, Settings.of(Double.NaN, true).bpm());
        assertEquals(133.5, Settings.of(133.5, false).bpm());
    }

    private static List<MidiMessage> messages(List<ClockEngine.Emission> emissions) {
        return emissions.stream().map(ClockEngine.Emission::message).toList();
    }
}
