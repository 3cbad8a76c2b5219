package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.midimesh.transport.udp.internal.ReplayWindow.Verdict.DUPLICATE;
import static org.midimesh.transport.udp.internal.ReplayWindow.Verdict.LATE;
import static org.midimesh.transport.udp.internal.ReplayWindow.Verdict.NEWEST;
import static org.midimesh.transport.udp.internal.ReplayWindow.Verdict.TOO_OLD;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each sequence number of a session's stream is accepted at most once, in any order inside the window. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ReplayWindowTest {

    private final ReplayWindow w = new ReplayWindow();

    @Test
    void shouldAcceptEachNumberOnceInOrder() {
        for (long s = 0; s < 1000; s++) {
            assertEquals(NEWEST, w.accept(s), "sequence " + s);
            assertEquals(0, w.gap());
            assertEquals(DUPLICATE, w.accept(s), "sequence " + s + " again");
        }
    }

    @Test
    void shouldAcceptLateNumbersInsideTheWindowOnce() {
        assertEquals(NEWEST, w.accept(10));
        assertEquals(NEWEST, w.accept(20));
        assertEquals(9, w.gap(), "11..19 skipped so far");
        assertEquals(LATE, w.accept(15));
        assertEquals(DUPLICATE, w.accept(15));
        assertEquals(DUPLICATE, w.accept(10));
        assertEquals(LATE, w.accept(11));
        assertEquals(NEWEST, w.accept(21 + ReplayWindow.SIZE - 1)); // 84
        assertEquals(LATE, w.accept(21), "63 below the highest: the window's last slot");
        assertEquals(TOO_OLD, w.accept(19), "65 below: outside the window, although never seen");
        assertEquals(TOO_OLD, w.accept(20), "64 below: outside the window");
    }

    @Test
    void shouldForgetNothingOfTheWindowWhenItJumpsFarAhead() {
        w.accept(5);
        assertEquals(NEWEST, w.accept(5 + 1000));
        assertEquals(999, w.gap());
        assertEquals(TOO_OLD, w.accept(5));
        assertEquals(LATE, w.accept(5 + 1000 - 1));
        assertEquals(DUPLICATE, w.accept(5 + 1000));
    }

    @Test
    void shouldWorkAcrossTheWrapOfTheSequenceNumber() {
        assertEquals(NEWEST, w.accept(0xffff_fffeL));
        assertEquals(NEWEST, w.accept(0xffff_ffffL));
        assertEquals(NEWEST, w.accept(0));
        assertEquals(0, w.gap());
        assertEquals(NEWEST, w.accept(2));
        assertEquals(LATE, w.accept(1));
        assertEquals(DUPLICATE, w.accept(0xffff_ffffL), "before the wrap, seen");
        assertEquals(DUPLICATE, w.accept(0xffff_fffeL));
    }

    @Test
    void shouldNotMoveOnARefusedNumber() {
        w.accept(100);
        assertEquals(TOO_OLD, w.accept(0));
        assertEquals(DUPLICATE, w.accept(100));
        assertEquals(NEWEST, w.accept(101), "the window is where it was");
        assertEquals(0, w.gap());
    }
}
