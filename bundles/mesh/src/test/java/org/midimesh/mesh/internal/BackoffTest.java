package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.test.Configs;

@Timeout(10)
class BackoffTest {

    @Test
    void shouldDoubleFromTheFirstDelayUpToTheLongest() {
        Backoff b = Backoff.of(Configs.defaults(MeshConfig.class));
        assertEquals(List.of(500L, 1000L, 2000L, 4000L, 4000L),
                IntStream.range(0, 5).mapToObj(b::delayMs).toList());
    }

    @Test
    void shouldStayAtTheLongestDelayHoweverManyFailures() {
        Backoff b = new Backoff(500, 4000);
        assertEquals(4000, b.delayMs(63));
        assertEquals(4000, b.delayMs(Integer.MAX_VALUE));
        assertEquals(500, b.delayMs(-1));
    }
}
