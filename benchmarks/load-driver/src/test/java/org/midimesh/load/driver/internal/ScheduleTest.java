package org.midimesh.load.driver.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ScheduleTest {

    private static final long MS = 1_000_000L;

    @Test
    void baseStreamIsRoundOfRateTimesSecondsMessagesEachDueFromItsIndex() {
        long[] due = Schedule.offsets(LoadSettings.schedule(1000, 10, 0, 0));
        assertEquals(10_000, due.length);
        for (int k = 0; k < due.length; k++) {
            assertEquals(k * MS, due[k]);
        }
        assertArrayEquals(new long[] {0, 333_333_333, 666_666_667}, Schedule.offsets(LoadSettings.schedule(3, 1, 0, 0)),
                "k × 1e9 / rate, rounded each time: no error adds up");
        assertEquals(2, Schedule.offsets(LoadSettings.schedule(1000, 0.0015, 0, 0)).length, "round(1.5) = 2");
        assertEquals(0, Schedule.offsets(LoadSettings.schedule(0, 10, 0, 0)).length);
    }

    @Test
    void burstIsCentredAndMergedByDueTime() {
        // base: 10 at 0, 100, ..., 900 ms; burst: 10 at 100/s from (1 - 0.1) / 2 s = 450 ms: 450, 460, ..., 540 ms
        long[] due = Schedule.offsets(LoadSettings.schedule(10, 1, 100, 0.1));
        long[] expected = LongStream.of(0, 100, 200, 300, 400, 450, 460, 470, 480, 490, 500, 500, 510, 520, 530, 540,
                600, 700, 800, 900).map(ms -> ms * MS).toArray();
        assertArrayEquals(expected, due);
        assertEquals(20, Schedule.baseCount(LoadSettings.schedule(10, 2, 100, 0.1)));
        assertEquals(10, Schedule.burstCount(LoadSettings.schedule(10, 2, 100, 0.1)));
    }

    @Test
    void aBurstNeedsBothARateAndADuration() {
        assertEquals(10, Schedule.offsets(LoadSettings.schedule(10, 1, 100, 0)).length);
        assertEquals(10, Schedule.offsets(LoadSettings.schedule(10, 1, 0, 0.5)).length);
    }

    @Test
    void mergeKeepsTheFirstArraysElementFirstOnTies() {
        assertArrayEquals(new long[] {1, 2, 2, 3, 4, 5}, Schedule.merge(new long[] {2, 4}, new long[] {1, 2, 3, 5}));
        assertArrayEquals(new long[] {7}, Schedule.merge(new long[] {}, new long[] {7}));
        assertArrayEquals(new long[] {}, Schedule.merge(new long[] {}, new long[] {}));
    }

    @Test
    void atMostTwoToTheTwentyMessages() {
        assertEquals(1 << 20, Schedule.offsets(LoadSettings.schedule(1 << 20, 1, 0, 0)).length);
        assertEquals(1 << 20, Schedule.offsets(LoadSettings.schedule(1_000_000, 1, 48_576, 1)).length);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedule.offsets(LoadSettings.schedule(1_000_000, 1, 48_577, 1)));
        assertTrue(e.getMessage().contains("base 1000000") && e.getMessage().contains("burst 48577")
                && e.getMessage().contains("1048576"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Schedule.offsets(LoadSettings.schedule(1e300, 1e300, 0, 0)),
                "a count beyond long does not wrap around");
        assertThrows(IllegalArgumentException.class,
                () -> Schedule.offsets(LoadSettings.schedule(1e300, 1e300, 1e300, 1e300)));
    }

    @Test
    void settingsThatAreNoScheduleAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Schedule.offsets(LoadSettings.schedule(-1, 1, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> Schedule.offsets(LoadSettings.schedule(Double.NaN, 1, 0, 0)));
        assertThrows(IllegalArgumentException.class,
                () -> Schedule.offsets(LoadSettings.schedule(1, Double.POSITIVE_INFINITY, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> Schedule.offsets(LoadSettings.schedule(1, 1, -5, 1)));
    }
}
