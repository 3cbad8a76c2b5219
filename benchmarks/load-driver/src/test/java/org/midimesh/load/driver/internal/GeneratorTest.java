package org.midimesh.load.driver.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.load.driver.LoadCodec;

/** The generator on a clock the test controls: the parker moves the clock on; no thread, no sleep. */
@Timeout(10)
class GeneratorTest {

    private static final long T0 = 7_000_000_000L;
    private static final long MS = 1_000_000L;
    private static final long EPOCH_MICROS = 1_700_000_000_000_000L;

    /** The test's clock; {@code oversleep} is added to every park, as a late wake-up. */
    private long now = T0;
    private long oversleep;
    private int parks;

    /** What the sink was given, one entry a produced call. */
    private record Call(MidiPort port, List<MidiMessage> messages, long timestampMicros, long clockAtCall) {
    }

    private final List<Call> calls = new ArrayList<>();
    private final InputSink sink = new InputSink() {
        @Override
        public void produced(MidiPort port, List<MidiMessage> messages) {
            throw new AssertionError("the generator gives a timestamp");
        }

        @Override
        public void produced(MidiPort port, List<MidiMessage> messages, long timestampMicros) {
            calls.add(new Call(port, messages, timestampMicros, now));
            now += 3_000; // a call takes 3 µs: sentNanos is read before it
        }
    };

    private final LoadGenPort port = new LoadGenPort();

    private Generator generator(long[] due) {
        return new Generator(due, port, () -> now, nanos -> {
            parks++;
            now += nanos + oversleep;
        }, T0, EPOCH_MICROS);
    }

    private static long[] every(long periodNanos, int n, long from) {
        long[] due = new long[n];
        for (int i = 0; i < n; i++) {
            due[i] = from + i * periodNanos;
        }
        return due;
    }

    @Test
    void sendsEveryMessageInOrderEachInItsOwnCallAndRecordsWhenItWasSent() {
        port.setInputSink(sink);
        long[] due = every(MS, 1000, T0 + 300 * MS);
        Generator.Result r = generator(due.clone()).generate();

        assertEquals(1000, calls.size());
        for (int i = 0; i < 1000; i++) {
            Call c = calls.get(i);
            assertEquals(List.of(LoadCodec.encode(i)), c.messages());
            assertEquals(port, c.port());
            assertEquals(c.clockAtCall(), r.sentNanos()[i], "sentNanos is the clock right before the call");
            assertEquals(EPOCH_MICROS + (r.sentNanos()[i] - T0) / 1_000, c.timestampMicros());
            assertTrue(r.sentNanos()[i] >= due[i]);
        }
        assertArrayEquals(due, r.dueNanos());
        assertEquals(0, r.maxLateNanos(), "every park ends on the due time: the 3 µs of a call are not added up");
        assertEquals(0, r.unsunk());
    }

    @Test
    void aLongWaitIsManyParksEachAimedAtTheDueTimeNotAddedUp() {
        port.setInputSink(sink);
        long[] due = {T0 + 1_000 * MS};
        Generator.Result r = generator(due).generate();
        assertEquals(T0 + 1_000 * MS, r.sentNanos()[0]);
        assertEquals(10, parks, "at most 100 ms a park");
    }

    @Test
    void lateMessagesAreSentAtOnceInOrderNoneSkipped() {
        port.setInputSink(sink);
        oversleep = 5 * MS; // each wake-up 5 ms late at 1000 messages a second: about five due at once
        long[] due = every(MS, 100, T0 + MS);
        Generator.Result r = generator(due).generate();

        assertEquals(100, calls.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(List.of(LoadCodec.encode(i)), calls.get(i).messages());
            assertTrue(r.sentNanos()[i] >= due[i]);
            if (i > 0) {
                assertTrue(r.sentNanos()[i] > r.sentNanos()[i - 1]);
            }
        }
        assertTrue(parks < 30, "several messages a wake-up: " + parks + " parks");
        assertTrue(r.maxLateNanos() >= 5 * MS, "late by the oversleep: " + r.maxLateNanos());
        assertEquals(r.sentNanos()[r.maxLateSeq()] - due[r.maxLateSeq()], r.maxLateNanos());
    }

    @Test
    void withNoSinkTheMessagesGoNowhereButTheirTimesAreRecorded() {
        long[] due = every(MS, 50, T0);
        Generator.Result r = generator(due).generate();
        assertEquals(50, r.unsunk());
        assertArrayEquals(due, r.sentNanos(), "sent exactly when due: the clock does not move without a sink");
    }

    @Test
    void aSinkThatThrowsIsCountedAndTheRunGoesOn() {
        List<Integer> seen = new ArrayList<>();
        port.setInputSink(new InputSink() {
            @Override
            public void produced(MidiPort p, List<MidiMessage> messages) {
            }

            @Override
            public void produced(MidiPort p, List<MidiMessage> messages, long timestampMicros) {
                int seq = LoadCodec.decode(messages.get(0));
                seen.add(seq);
                if (seq % 2 == 0) {
                    throw new IllegalStateException("refused " + seq);
                }
            }
        });
        Generator.Result r = generator(every(MS, 10, T0)).generate();
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), seen);
        assertEquals(5, r.refused());
    }

    @Test
    void aCancelledGenerationEndsWithoutAResult() {
        port.setInputSink(sink);
        Generator[] g = new Generator[1];
        g[0] = new Generator(every(MS, 100, T0 + MS), port, () -> now, nanos -> {
            now += nanos;
            if (now >= T0 + 10 * MS) {
                g[0].cancel();
            }
        }, T0, EPOCH_MICROS);
        assertNull(g[0].generate());
        assertEquals(9, calls.size(), "messages 0..8, due by 9 ms; the park towards 10 ms saw the cancel");
    }

    @Test
    void anEmptyRunIsDoneAtOnce() {
        Generator.Result r = generator(new long[0]).generate();
        assertEquals(0, r.sentNanos().length);
        assertEquals(0, r.maxLateNanos());
    }
}
