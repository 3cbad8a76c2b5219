package org.midimesh.transport.udp.internal;

/**
 * Receiver-side view of one sender's sequence stream (one sender, one {@link PacketType.Stream}): finds gaps, and
 * refuses duplicates and datagrams that arrive after a later one. Not thread-safe: confined to the receive thread.
 * <p>Sequence numbers are u32 and wrap, so distances use serial-number arithmetic (RFC 1982): the distance from the
 * expected number is read as a signed 32-bit value. A sender that restarts begins again at 0. Close behind the expected
 * number, that looks like a late datagram; it is told apart by its timestamp, newer than the newest seen. Far from the
 * expected number, it is taken as a restart whatever the timestamp, and so is a run of stale datagrams, so that a
 * sender whose clock went back after a restart is not shut out.
 */
final class SequenceTracker {

    /**
     * A forward jump above this many missing datagrams is taken as a restart of the numbering (or a very long outage),
     * not counted as drops: a single bogus datagram must not inflate the drop counter by billions.
     */
    static final int MAX_COUNTED_GAP = 1 << 16;
    /** Datagrams further behind than this are not late but from a new run of the sender's numbering. */
    static final int REORDER_WINDOW = 1024;
    /** This many stale datagrams in a row mean a new run (reordering and duplication come in ones and twos). */
    static final int STALE_STREAK_LIMIT = 8;

    enum Kind {
        /** The first datagram seen on this stream: delivered. */
        FIRST,
        /** The expected number: delivered. */
        IN_ORDER,
        /** Ahead of the expected number: delivered, {@link Verdict#missing} datagrams were lost. */
        GAP,
        /** A new run of the sender's numbering: delivered, nothing counted as lost. */
        RESYNC,
        /** A duplicate, or older than a datagram already delivered: dropped. */
        STALE
    }

    /** The decision on one datagram. */
    record Verdict(Kind kind, long missing) {
        boolean deliver() {
            return kind != Kind.STALE;
        }
    }

    private static final Verdict FIRST = new Verdict(Kind.FIRST, 0);
    private static final Verdict IN_ORDER = new Verdict(Kind.IN_ORDER, 0);
    private static final Verdict RESYNC = new Verdict(Kind.RESYNC, 0);
    private static final Verdict STALE = new Verdict(Kind.STALE, 0);

    private boolean started;
    private long expected;
    private long newestTimestamp;
    private int staleStreak;

    /** Judges the next datagram of this stream and, unless it is stale, moves the stream past it. */
    Verdict accept(long sequence, long timestampMicros) {
        if (!started) {
            started = true;
            return advance(sequence, timestampMicros, FIRST);
        }
        int distance = (int) (sequence - expected);
        if (distance == 0) {
            return advance(sequence, timestampMicros, IN_ORDER);
        }
        if (distance > 0 && distance <= MAX_COUNTED_GAP) {
            return advance(sequence, timestampMicros, new Verdict(Kind.GAP, distance));
        }
        boolean close = distance < 0 && distance >= -REORDER_WINDOW;
        if (!close || timestampMicros > newestTimestamp || staleStreak + 1 >= STALE_STREAK_LIMIT) {
            return advance(sequence, timestampMicros, RESYNC);
        }
        staleStreak++;
        return STALE;
    }

    private Verdict advance(long sequence, long timestampMicros, Verdict verdict) {
        expected = (sequence + 1) & DatagramCodec.MAX_SEQUENCE;
        newestTimestamp = timestampMicros;
        staleStreak = 0;
        return verdict;
    }
}
