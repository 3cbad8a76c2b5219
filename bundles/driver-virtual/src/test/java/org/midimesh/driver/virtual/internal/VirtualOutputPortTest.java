package org.midimesh.driver.virtual.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.virtual.ReceivedLog.Page;
import org.midimesh.api.midi.MidiMessage;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class VirtualOutputPortTest {

    private static final MidiMessage NOTE_ON = MidiMessage.parseHex("90 3c 64");
    private static final MidiMessage SYSEX = MidiMessage.parseHex("f0 7e 7f 06 01 f7");

    @Test
    void shouldRecordWhatItPlaysWithTimeAndSource() {
        Clock clock = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L, 123_456_789), ZoneOffset.UTC);
        VirtualOutputPort out = new VirtualOutputPort("Out", false, 16, clock);
        NodeId source = NodeId.random();
        out.play(List.of(NOTE_ON, SYSEX), source);

        Page p = out.read(0, 10);
        assertEquals(2, p.total());
        assertEquals(NOTE_ON, p.messages().get(0).message());
        assertEquals(SYSEX, p.messages().get(1).message());
        assertEquals(1_700_000_000_123_456L, p.messages().get(0).receivedAtMicros());
        assertEquals(source, p.messages().get(1).sourceNode());
    }

    @Test
    void anOutputPromisesToPlayAtOnceAndAnInputDoesNot() {
        // The node plays an ImmediatePlay port on the receiving thread: only the lock-free output may say so.
        assertTrue(new VirtualOutputPort("Out", false, 16, Clock.systemUTC()) instanceof ImmediatePlay);
        MidiPort input = new VirtualInputPort("In", false);
        assertFalse(input instanceof ImmediatePlay);
    }

    @Test
    void shouldUseTheRealClockInMicroseconds() {
        VirtualOutputPort out = new VirtualOutputPort("Out", false, 16, Clock.systemUTC());
        long before = System.currentTimeMillis() * 1000;
        out.play(List.of(NOTE_ON), NodeId.random());
        long after = (System.currentTimeMillis() + 1) * 1000;
        long at = out.read(0, 1).messages().get(0).receivedAtMicros();
        assertTrue(at >= before && at <= after, at + " not in [" + before + ", " + after + "]");
    }

    @Test
    void shouldRejectMissingArgumentsAndRecordNothing() {
        VirtualOutputPort out = new VirtualOutputPort("Out", false, 16, Clock.systemUTC());
        NodeId source = NodeId.random();
        assertEquals("messages is missing",
                assertThrows(IllegalArgumentException.class, () -> out.play(null, source)).getMessage());
        assertEquals("source is missing",
                assertThrows(IllegalArgumentException.class, () -> out.play(List.of(NOTE_ON), null)).getMessage());
        assertEquals("messages[1] is missing", assertThrows(IllegalArgumentException.class,
                () -> out.play(Arrays.asList(NOTE_ON, null), source)).getMessage());
        assertEquals(0, out.read(0, 10).total());
    }

    @Test
    void shouldIgnoreASinkOnAnOutput() {
        VirtualOutputPort out = new VirtualOutputPort("Out", false, 16, Clock.systemUTC());
        out.setInputSink(new FailingSink());
        assertEquals(DeviceType.OUTPUT, out.type());
    }

    @Test
    void shouldRefuseToPlayOnAnInputAndKeepItsSink() {
        VirtualInputPort in = new VirtualInputPort("In", false);
        assertThrows(UnsupportedOperationException.class, () -> in.play(List.of(NOTE_ON), NodeId.random()));
        assertNull(in.inputSink());
        InputSink sink = new FailingSink();
        in.setInputSink(sink);
        assertSame(sink, in.inputSink());
        in.setInputSink(null);
        assertNull(in.inputSink());
        assertEquals(DeviceType.INPUT, in.type());
    }

    /** A sink that no test here may call. */
    private static final class FailingSink implements InputSink {
        @Override
        public void produced(MidiPort port, List<MidiMessage> messages) {
            throw new AssertionError("nothing here produces");
        }

        @Override
        public void produced(MidiPort port, List<MidiMessage> messages, long timestampMicros) {
            throw new AssertionError("nothing here produces");
        }
    }
}
