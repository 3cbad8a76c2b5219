package org.midimesh.transport.udp.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.test.DeadlockWatchdog;

/** The datagram path's warm-up: all of it arrives, nothing of it stays, and it stops when told. */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransportWarmupTest {

    private static long receiveThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .filter(t -> t.getName().equals(UdpTransport.RX_THREAD_NAME)).count();
    }

    @Test
    void everyDatagramArrivesAndBothPrivateTransportsClose() {
        long before = receiveThreads();
        String done = TransportWarmup.run(Duration.ofSeconds(30));
        assertEquals("20000 datagrams, 20000 received", done);
        await().atMost(Duration.ofSeconds(10)).until(() -> receiveThreads() == before);
    }

    @Test
    void anInterruptedWarmUpStopsAtOnce() {
        Thread.currentThread().interrupt();
        try {
            String done = TransportWarmup.run(Duration.ofSeconds(30));
            Matcher m = Pattern.compile("(\\d+) datagrams, (\\d+) received").matcher(done);
            assertTrue(m.matches(), done);
            assertEquals(0, Integer.parseInt(m.group(1)), "no round after the interrupt");
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void theBudgetBoundsIt() {
        long start = System.nanoTime();
        String done = TransportWarmup.run(Duration.ofMillis(1));
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(done.endsWith("received"), done);
        assertTrue(tookMillis < 5_000, "a 1 ms budget took " + tookMillis + " ms (sockets opened and closed)");
    }
}
