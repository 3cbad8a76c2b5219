package org.midimesh.example.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(5)
class TickScheduleTest {

    private static final long T0 = 1_000_000_000_000L;
    private static final long SECOND = 1_000_000_000L;

    @Test
    void ticksAreDueFromTheStartAndTheCountSoRoundingNeverAccumulates() {
        TickSchedule s = new TickSchedule(T0, 120);
        assertEquals(T0, s.advance(), "tick 0 at the start");
        assertEquals(T0 + 20_833_333, s.advance(), "tick 1: 1/48 s at 120 BPM, rounded");
        assertEquals(T0 + 41_666_667, s.advance());
        for (int i = 3; i < 48; i++) {
            s.advance();
        }
        assertEquals(T0 + SECOND, s.nextDue(), "tick 48 exactly one second (two beats) later");
        for (int i = 48; i < 120 * 24; i++) {
            s.advance();
        }
        assertEquals(T0 + 60 * SECOND, s.nextDue(), "tick 2880 exactly one minute later");
    }

    @Test
    void dueByCountsTheTicksWhoseTimeHasCome() {
        TickSchedule s = new TickSchedule(T0, 120);
        assertEquals(0, s.dueBy(T0 - 1));
        assertEquals(1, s.dueBy(T0));
        assertEquals(1, s.dueBy(T0 + 20_833_332));
        assertEquals(2, s.dueBy(T0 + 20_833_333));
        assertEquals(49, s.dueBy(T0 + SECOND), "ticks 0..48");
        s.advance();
        s.advance();
        assertEquals(47, s.dueBy(T0 + SECOND), "ticks 2..48");
        assertEquals(0, new TickSchedule(T0, 300).dueBy(T0 - SECOND));
    }

    @Test
    void aTempoChangeSpacesTheNextTickByTheNewPeriodFromTheLastOne() {
        TickSchedule s = new TickSchedule(T0, 120);
        for (int i = 0; i < 10; i++) {
            s.advance();
        }
        long last = T0 + Math.round(9 * TickSchedule.periodNanos(120));
        s.retempo(240);
        assertEquals(240, s.bpm());
        long p240 = Math.round(TickSchedule.periodNanos(240));
        assertEquals(last + p240, s.advance(), "one new period after the last tick");
        assertEquals(last + 2 * p240, s.advance());
        for (int i = 2; i < 96; i++) {
            s.advance();
        }
        assertEquals(last + p240 + SECOND, s.nextDue(), "96 ticks a second from the change on, not accumulated");
    }

    @Test
    void aTempoChangeBeforeTheFirstTickKeepsTheStart() {
        TickSchedule s = new TickSchedule(T0, 120);
        s.retempo(60);
        assertEquals(T0, s.advance());
        assertEquals(T0 + Math.round(TickSchedule.periodNanos(60)), s.advance());
    }

    @Test
    void restartBeginsANewSegmentNow() {
        TickSchedule s = new TickSchedule(T0, 120);
        s.advance();
        s.restartAt(T0 + 5 * SECOND);
        assertEquals(T0 + 5 * SECOND, s.advance());
        assertEquals(T0 + 5 * SECOND + 20_833_333, s.nextDue());
    }
}
