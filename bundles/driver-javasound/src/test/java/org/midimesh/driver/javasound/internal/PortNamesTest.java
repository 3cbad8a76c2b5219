package org.midimesh.driver.javasound.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class PortNamesTest {

    @Test
    @Timeout(5)
    void baseCleansTheDeviceName() {
        assertEquals("USB MIDI [hw:1,0,0]", PortNames.base("USB MIDI [hw:1,0,0]"));
        assertEquals("Bad name", PortNames.base("\tBad\u0000\u0007name\r\n"));
        assertEquals("a b", PortNames.base("a \u0085  b"));
        assertEquals(PortNames.UNNAMED, PortNames.base(null));
        assertEquals(PortNames.UNNAMED, PortNames.base(" \u0001 "));
        assertEquals("\uD83C\uDFB9 Keys", PortNames.base("\uD83C\uDFB9 Keys"));
    }

    @Test
    @Timeout(5)
    void baseKeepsAtMost128CodePoints() {
        String keys = "\uD83C\uDFB9".repeat(200);
        String b = PortNames.base(keys);
        assertEquals(PortNames.MAX_LENGTH, b.codePointCount(0, b.length()));
        assertFalse(Character.isHighSurrogate(b.charAt(b.length() - 1)), "no half code point at the end");
    }

    @Test
    @Timeout(5)
    void uniqueAddsTheFirstFreeNumber() {
        assertEquals("X", PortNames.unique("X", Set.of()));
        assertEquals("X #2", PortNames.unique("X", Set.of("X")));
        assertEquals("X #3", PortNames.unique("X", Set.of("X", "X #2")));
        assertEquals("X #2", PortNames.unique("X", Set.of("X", "X #3")));
    }

    @Test
    @Timeout(5)
    void uniqueStaysWithin128CodePoints() {
        String longName = PortNames.base("n".repeat(300));
        String second = PortNames.unique(longName, Set.of(longName));
        assertEquals(PortNames.MAX_LENGTH, second.length());
        assertEquals("n".repeat(PortNames.MAX_LENGTH - 3) + " #2", second);
    }
}
