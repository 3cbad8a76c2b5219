package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.transport.udp.internal.SequenceTracker.Kind;
import org.midimesh.transport.udp.internal.SequenceTracker.Verdict;

@Timeout(10)
class SequenceTrackerTest {

    private final SequenceTracker tracker = new SequenceTracker();

    @Test
    void shouldDeliverTheFirstDatagramWhateverItsNumber() {
        assertEquals(Kind.FIRST, tracker.accept(123_456, 10).kind());
        assertEquals(Kind.IN_ORDER, tracker.accept(123_457, 11).kind());
    }

    @Test
    void shouldCountTheDatagramsMissingInAGap() {
        tracker.accept(0, 10);
        Verdict v = tracker.accept(4, 14);
        assertEquals(Kind.GAP, v.kind());
        assertEquals(3, v.missing());
        assertTrue(v.deliver());
        assertEquals(Kind.IN_ORDER, tracker.accept(5, 15).kind());
    }

    @Test
    void shouldDropADuplicate() {
        tracker.accept(0, 10);
        tracker.accept(1, 11);
        Verdict v = tracker.accept(1, 11);
        assertEquals(Kind.STALE, v.kind());
        assertFalse(v.deliver());
        assertEquals(Kind.IN_ORDER, tracker.accept(2, 12).kind());
    }

    @Test
    void shouldDropADatagramThatArrivesAfterALaterOne() {
        tracker.accept(0, 10);
        assertEquals(Kind.GAP, tracker.accept(2, 12).kind());
        assertEquals(Kind.STALE, tracker.accept(1, 11).kind());
        assertEquals(Kind.IN_ORDER, tracker.accept(3, 13).kind());
    }

    @Test
    void shouldFollowTheWrapFromMaxToZero() {
        tracker.accept(DatagramCodec.MAX_SEQUENCE - 1, 10);
        assertEquals(Kind.IN_ORDER, tracker.accept(DatagramCodec.MAX_SEQUENCE, 11).kind());
        assertEquals(Kind.IN_ORDER, tracker.accept(0, 12).kind());
        Verdict gap = tracker.accept(3, 15);
        assertEquals(Kind.GAP, gap.kind());
        assertEquals(2, gap.missing());
    }

    @Test
    void shouldCountAGapAcrossTheWrap() {
        tracker.accept(DatagramCodec.MAX_SEQUENCE - 1, 10);
        Verdict v = tracker.accept(1, 13);
        assertEquals(Kind.GAP, v.kind());
        assertEquals(2, v.missing());
        assertEquals(Kind.STALE, tracker.accept(DatagramCodec.MAX_SEQUENCE, 11).kind());
    }

    @Test
    void shouldResynchroniseWhenALongRunningSenderRestartsAtZero() {
        for (long s = 0; s < 5_000; s++) {
            tracker.accept(s, 1_000 + s);
        }
        assertEquals(Kind.RESYNC, tracker.accept(0, 2).kind(), "far behind: a new run, whatever its clock says");
        assertEquals(Kind.IN_ORDER, tracker.accept(1, 3).kind());
    }

    @Test
    void shouldResynchroniseWhenARecentlyStartedSenderRestartsWithANewerClock() {
        for (long s = 0; s < 10; s++) {
            tracker.accept(s, 1_000 + s);
        }
        assertEquals(Kind.RESYNC, tracker.accept(0, 5_000).kind());
        assertEquals(Kind.IN_ORDER, tracker.accept(1, 5_001).kind());
        assertEquals(Kind.STALE, tracker.accept(0, 1_000).kind(), "a late datagram of the old run, behind the new one");
    }

    @Test
    void shouldResynchroniseAfterARunOfStaleDatagrams() {
        for (long s = 0; s < 10; s++) {
            tracker.accept(s, 1_000 + s);
        }
        // Restarted with its clock behind: looks late, until the run is too long to be reordering.
        for (long s = 0; s < SequenceTracker.STALE_STREAK_LIMIT - 1; s++) {
            assertEquals(Kind.STALE, tracker.accept(s, 500 + s).kind(), "seq " + s);
        }
        assertEquals(Kind.RESYNC, tracker.accept(SequenceTracker.STALE_STREAK_LIMIT - 1, 600).kind());
        assertEquals(Kind.IN_ORDER, tracker.accept(SequenceTracker.STALE_STREAK_LIMIT, 601).kind());
    }

    @Test
    void shouldCountTheLargestGapAndResynchroniseBeyondIt() {
        tracker.accept(0, 10);
        Verdict v = tracker.accept(SequenceTracker.MAX_COUNTED_GAP + 1, 20);
        assertEquals(Kind.GAP, v.kind());
        assertEquals(SequenceTracker.MAX_COUNTED_GAP, v.missing());
        assertEquals(Kind.RESYNC, tracker.accept(3L * SequenceTracker.MAX_COUNTED_GAP, 5).kind());
        assertEquals(Kind.IN_ORDER, tracker.accept(3L * SequenceTracker.MAX_COUNTED_GAP + 1, 6).kind());
    }
}
