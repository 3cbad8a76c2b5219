package org.midimesh.transport.udp.internal;

/**
 * The replay window of one stream of one transport v2 session (docs/transport-v2.md): remembers the highest sequence
 * number accepted and which of the {@value #SIZE} numbers below it were seen, and accepts each number at most once.
 * Sequence numbers are u32 and compared with serial number arithmetic (RFC 1982), as in protocol version 1, so the
 * window keeps working across the wrap from 4294967295 to 0.
 * <p>Only an authenticated datagram may move it: the caller checks the datagram's MAC first. Not thread-safe: owned
 * by the thread that receives the session's datagrams (the transport's receive thread).
 */
final class ReplayWindow {

    /** Sequence numbers below the highest that are still accepted (once each) when they arrive late. */
    static final int SIZE = 64;

    /** What {@link #accept} decided. */
    enum Verdict {
        /** The highest number so far; {@link #gap()} says how many numbers it skipped. */
        NEWEST,
        /** Below the highest, inside the window, not seen before: a reordered datagram. */
        LATE,
        /** Seen before. */
        DUPLICATE,
        /** Below the window: too old to tell, so refused. */
        TOO_OLD
    }

    private boolean started;
    private long highest;
    // Bit i set: the number highest - i was accepted (bit 0 is highest itself).
    private long seen;
    private long gap;

    /**
     * Accepts {@code sequence} (0..4294967295) unless it was accepted before or is too old; a refused number changes
     * nothing.
     */
    Verdict accept(long sequence) {
        long s = sequence & 0xffff_ffffL;
        if (!started) {
            started = true;
            highest = s;
            seen = 1;
            gap = 0;
            return Verdict.NEWEST;
        }
        int d = (int) (s - highest); // serial number arithmetic: the u32 difference read as signed
        if (d > 0) {
            seen = d >= SIZE ? 1 : (seen << d) | 1;
            highest = s;
            gap = d - 1L;
            return Verdict.NEWEST;
        }
        int behind = -d;
        if (behind >= SIZE) {
            return Verdict.TOO_OLD;
        }
        long bit = 1L << behind;
        if ((seen & bit) != 0) {
            return Verdict.DUPLICATE;
        }
        seen |= bit;
        return Verdict.LATE;
    }

    /** Numbers the last {@link Verdict#NEWEST} skipped (they may still come, late). */
    long gap() {
        return gap;
    }
}
