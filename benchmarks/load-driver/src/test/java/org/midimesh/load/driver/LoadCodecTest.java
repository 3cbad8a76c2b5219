package org.midimesh.load.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.midi.MidiMessage;

@Timeout(30)
class LoadCodecTest {

    /** The examples of the README, which the load tool's copy of the arithmetic checks too. */
    @ParameterizedTest
    @CsvSource({"0, 900000", "1, 900001", "128, 900100", "16384, 910000", "262144, a00000", "1048575, ef7f7f"})
    void publishedExamples(int n, String hex) {
        assertEquals(hex, LoadCodec.encode(n).toHex());
        assertEquals(n, LoadCodec.decode(MidiMessage.parseHex(hex)));
    }

    @Test
    void everySequenceNumberRoundTripsThroughItsOwnMessage() {
        boolean[] seen = new boolean[1 << 24];
        for (int n = 0; n < LoadCodec.SEQUENCES; n++) {
            MidiMessage m = LoadCodec.encode(n);
            assertEquals(3, m.length());
            int bytes = m.byteAt(0) << 16 | m.byteAt(1) << 8 | m.byteAt(2);
            if (seen[bytes]) {
                throw new AssertionError("two numbers encode as " + m);
            }
            seen[bytes] = true;
            int back = LoadCodec.decode(m);
            if (back != n) {
                assertEquals(n, back, "decode(encode(" + n + ")) = " + m);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 1 << 20, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void numbersOutsideTwentyBitsAreRefused(int n) {
        assertThrows(IllegalArgumentException.class, () -> LoadCodec.encode(n));
    }

    @ParameterizedTest
    @ValueSource(strings = {"80 3c 00", "c0 05", "d0 10", "f8", "fa", "f2 01 02", "f0 01 02 f7", "f1 00", "f3 01"})
    void otherMessagesAreForeign(String hex) {
        assertEquals(LoadCodec.FOREIGN, LoadCodec.decode(MidiMessage.parseHex(hex)));
    }
}
