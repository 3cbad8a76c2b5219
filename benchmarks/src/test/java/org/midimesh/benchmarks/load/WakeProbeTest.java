package org.midimesh.benchmarks.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WakeProbeTest {

    @Test
    void recordsEveryWakeUpAndSaysHowManyWereOverAMillisecond() throws InterruptedException {
        Histogram h = WakeProbe.run(10, 500);
        assertEquals(500, h.getTotalCount());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        WakeProbe.print(h, 10, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String line = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(line.startsWith("wake-ups 500, gap 10 µs: p50 "), line);
        assertTrue(line.contains("; over 1 ms: "), line);
    }
}
