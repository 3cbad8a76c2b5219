package org.midimesh.api.midi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MidiMessageTest {

    @ParameterizedTest
    @ValueSource(strings = {"90 3c 64", "903C64", "80 3c 00", "b0 07 7f", "c0 05", "d0 40", "e0 00 40", "f8", "fa",
            "ff", "f0 7e 7f 06 01 f7", "f0 f7", "f1 10", "f2 00 10", "f3 01", "f6"})
    void shouldAcceptValidMessages(String hex) {
        MidiMessage m = MidiMessage.parseHex(hex);
        assertEquals(hex.replace(" ", "").toLowerCase(), m.toHex());
    }

    @ParameterizedTest
    @CsvSource({"'3c 64', no status byte", "'90 3c', needs 3 bytes", "'90 3c 64 00', needs 3 bytes",
            "'90 3c 80', above 7f", "'f0 7e 7f', unterminated SysEx", "'f0 01 90 f7', above 7f",
            "'f4', undefined status", "'f7', undefined status", "'9', odd number", "'zz', not hex", "'', empty"})
    void shouldRejectInvalidMessagesWithAReason(String hex, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MidiMessage.parseHex(hex));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void shouldClassifyTypeChannelAndTransport() {
        MidiMessage noteOn = MidiMessage.parseHex("93 3c 64");
        assertEquals(MessageType.NOTE_ON, noteOn.type());
        assertEquals(4, noteOn.channel());
        assertTrue(noteOn.isRealtime());
        MidiMessage sysex = MidiMessage.parseHex("f0 7e f7");
        assertEquals(MessageType.SYSTEM, sysex.type());
        assertEquals(0, sysex.channel());
        assertFalse(sysex.isRealtime());
        assertTrue(MidiMessage.parseHex("f8").isRealtime());
        assertFalse(MidiMessage.parseHex("f2 00 00").isRealtime());
    }

    @Test
    void shouldNotExposeItsBytes() {
        byte[] in = {(byte) 0x90, 0x3c, 0x64};
        MidiMessage m = MidiMessage.of(in);
        in[1] = 0x00;
        m.toBytes()[1] = 0x00;
        assertEquals("903c64", m.toHex());
    }
}
