package org.midimesh.driver.javasound.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import javax.sound.midi.MetaMessage;
import javax.sound.midi.ShortMessage;
import javax.sound.midi.SysexMessage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.midi.MidiMessage;

class JavaSoundMessagesTest {

    @Test
    @Timeout(5)
    void toJavaxKeepsEveryByte() {
        for (String hex : List.of("90 3c 64", "8f 00 7f", "c0 05", "d3 40", "e0 00 40", "f1 23", "f2 7f 7f", "f3 01",
                "f6", "f8", "fa", "fc", "fe", "ff", "f0 f7", "f0 43 10 4c 00 00 7e 00 f7")) {
            MidiMessage m = MidiMessage.parseHex(hex);
            javax.sound.midi.MidiMessage j = JavaSoundMessages.toJavax(m);
            assertArrayEquals(m.toBytes(), j.getMessage(), hex);
            assertEquals(m.length(), j.getLength(), hex);
            if (m.isSysEx()) {
                assertInstanceOf(SysexMessage.class, j, hex);
            } else {
                assertInstanceOf(ShortMessage.class, j, hex);
            }
        }
    }

    @Test
    @Timeout(5)
    void assemblerConvertsShortMessagesAndWholeSysEx() throws Exception {
        JavaSoundMessages.Assembler a = new JavaSoundMessages.Assembler();
        assertEquals(step("903c64"), a.accept(new ShortMessage(0x90, 0x3c, 0x64)));
        assertEquals(step("c105"), a.accept(new ShortMessage(0xc1, 0x05, 0)));
        assertEquals(step("f8"), a.accept(new ShortMessage(0xf8)));
        assertEquals(step("f0010203f7"), a.accept(sysex(0xf0, 1, 2, 3, 0xf7)));
    }

    @Test
    @Timeout(5)
    void assemblerJoinsASysExThatComesInParts() throws Exception {
        JavaSoundMessages.Assembler a = new JavaSoundMessages.Assembler();
        assertEquals(nothing(), a.accept(sysex(0xf0, 1, 2)));
        assertEquals(step("f8"), a.accept(new ShortMessage(0xf8)), "real-time passes through a SysEx");
        assertEquals(nothing(), a.accept(sysex(0xf7, 3, 4)));
        assertEquals(step("f001020304 05f7".replace(" ", "")), a.accept(sysex(0xf7, 5, 0xf7)));
        assertEquals(step("903c64"), a.accept(new ShortMessage(0x90, 0x3c, 0x64)), "nothing pending any more");
    }

    @Test
    @Timeout(5)
    void assemblerDropsWhatMidiMeshRejects() throws Exception {
        JavaSoundMessages.Assembler a = new JavaSoundMessages.Assembler();
        JavaSoundMessages.Step meta = a.accept(new MetaMessage(0x2f, new byte[0], 0));
        assertNull(meta.message());
        assertEquals(1, meta.rejected().size());

        JavaSoundMessages.Step orphan = a.accept(sysex(0xf7, 1, 0xf7));
        assertNull(orphan.message());
        assertTrue(orphan.rejected().get(0).contains("without its start"), orphan.toString());

        assertEquals(nothing(), a.accept(sysex(0xf0, 1)));
        JavaSoundMessages.Step cut = a.accept(new ShortMessage(0x90, 0x3c, 0x64));
        assertEquals(MidiMessage.parseHex("903c64"), cut.message(), "the status that cuts off the SysEx is kept");
        assertTrue(cut.rejected().get(0).contains("unfinished SysEx"), cut.toString());

        assertEquals(nothing(), a.accept(sysex(0xf0, 1)));
        JavaSoundMessages.Step big = a.accept(new SysexMessage(0xf7, new byte[JavaSoundMessages.MAX_SYSEX_BYTES],
                JavaSoundMessages.MAX_SYSEX_BYTES));
        assertNull(big.message());
        assertTrue(big.rejected().get(0).contains("longer than"), big.rejected().toString());

        JavaSoundMessages.Step badData = a.accept(sysex(0xf0, 0x80, 0xf7));
        assertNull(badData.message());
        assertEquals(1, badData.rejected().size());
    }

    private static SysexMessage sysex(int... bytes) throws Exception {
        if (bytes[0] == 0xf7) {
            byte[] data = new byte[bytes.length - 1];
            for (int i = 1; i < bytes.length; i++) {
                data[i - 1] = (byte) bytes[i];
            }
            return new SysexMessage(0xf7, data, data.length);
        }
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return new SysexMessage(b, b.length);
    }

    private static JavaSoundMessages.Step step(String hex) {
        return new JavaSoundMessages.Step(MidiMessage.parseHex(hex), List.of());
    }

    private static JavaSoundMessages.Step nothing() {
        return new JavaSoundMessages.Step(null, List.of());
    }
}
