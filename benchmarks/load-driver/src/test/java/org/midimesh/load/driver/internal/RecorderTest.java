package org.midimesh.load.driver.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.load.driver.LoadCodec;

@Timeout(10)
class RecorderTest {

    private static final MidiMessage CLOCK = MidiMessage.parseHex("f8");

    @Test
    void theArraysGrowAndKeepEveryArrivalInOrder() {
        Recorder r = new Recorder(4, 1000);
        for (int i = 0; i < 10; i++) {
            r.record(List.of(LoadCodec.encode(100 - i)), 1000 + i);
        }
        assertEquals(16, r.capacity(), "4, 8, 16");
        r.record(List.of(LoadCodec.encode(7), CLOCK, LoadCodec.encode(8)), 2000); // one play, one arrival time

        Recorder.Snapshot s = r.snapshot();
        assertEquals(12, s.count());
        assertEquals(1, s.foreign());
        assertArrayEquals(IntStream.concat(IntStream.iterate(100, i -> i - 1).limit(10), IntStream.of(7, 8))
                .toArray(), s.seqs());
        assertArrayEquals(new long[] {1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 2000, 2000},
                s.arrivalNanos());
    }

    @Test
    void aSnapshotIsACopy() {
        Recorder r = new Recorder(2, 100);
        r.record(List.of(LoadCodec.encode(1)), 1);
        Recorder.Snapshot s = r.snapshot();
        r.record(List.of(LoadCodec.encode(2), LoadCodec.encode(3)), 2);
        assertArrayEquals(new int[] {1}, s.seqs());
        assertEquals(3, r.snapshot().count());
    }

    @Test
    void arrivalsBeyondTheLimitAreCountedNotKept() {
        Recorder r = new Recorder(2, 5);
        for (int i = 0; i < 8; i++) {
            r.record(List.of(LoadCodec.encode(i)), i);
        }
        Recorder.Snapshot s = r.snapshot();
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, s.seqs());
        assertEquals(3, s.overflow());
        assertEquals(5, r.capacity(), "2, 4, then the limit");
    }

    @Test
    void resetForgetsEverything() {
        Recorder r = new Recorder(2, 100);
        for (int i = 0; i < 10; i++) {
            r.record(List.of(LoadCodec.encode(i), CLOCK), i);
        }
        r.reset();
        Recorder.Snapshot s = r.snapshot();
        assertEquals(0, s.count());
        assertEquals(0, s.foreign());
        assertEquals(2, r.capacity());
        r.record(List.of(LoadCodec.encode(5)), 50);
        assertArrayEquals(new int[] {5}, r.snapshot().seqs());
    }

    @Test
    void aResetForARunMakesRoomForItsMessagesUpToTheLimit() {
        Recorder r = new Recorder(2, 100);
        r.reset(40);
        assertEquals(40, r.capacity(), "room for the run at once");
        for (int i = 0; i < 40; i++) {
            r.record(List.of(LoadCodec.encode(i)), i);
        }
        assertEquals(40, r.capacity(), "recording the expected run never grows the arrays");
        r.reset(1_000);
        assertEquals(100, r.capacity(), "never beyond the limit");
        r.reset(0);
        assertEquals(2, r.capacity());
    }
}
