package org.midimesh.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.NodeId;
import org.midimesh.api.transport.DataFrame;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WarmupsTest {

    @Test
    void repeatRunsTheRoundsInOrder() {
        AtomicInteger next = new AtomicInteger();
        int ran = Warmups.repeat(1000, Warmups.deadline(Duration.ofSeconds(20)),
                i -> i == next.getAndIncrement());
        assertEquals(1000, ran);
        assertEquals(1000, next.get());
    }

    @Test
    void repeatStopsWhenARoundSaysSo() {
        assertEquals(7, Warmups.repeat(1000, Warmups.deadline(Duration.ofSeconds(20)), i -> i < 7));
    }

    @Test
    void repeatStopsAtTheDeadline() {
        int ran = Warmups.repeat(Integer.MAX_VALUE, Warmups.deadline(Duration.ofMillis(20)), i -> {
            Thread.onSpinWait();
            return true;
        });
        assertTrue(ran > 0 && ran < Integer.MAX_VALUE, "ran " + ran);
    }

    @Test
    void repeatStopsWhenInterrupted() {
        int ran = Warmups.repeat(1000, Warmups.deadline(Duration.ofSeconds(20)), i -> {
            if (i == 3) {
                Thread.currentThread().interrupt();
            }
            return true;
        });
        assertTrue(Thread.interrupted());
        assertEquals(4, ran);
    }

    @Test
    void theFramesAreWhatAKeyboardPlays() {
        NodeId source = NodeId.random();
        List<DataFrame> frames = Warmups.frames(source);
        assertEquals(List.of(1, 1, 1, 3, 1), frames.stream().map(f -> f.messages().size()).toList());
        assertTrue(frames.stream().allMatch(f -> f.sourceNode().equals(source) && f.hops() == 0));
    }
}
