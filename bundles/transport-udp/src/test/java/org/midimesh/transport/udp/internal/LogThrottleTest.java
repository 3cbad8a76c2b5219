package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class LogThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final LogThrottle throttle = new LogThrottle(100, now::get);

    @Test
    void shouldLetOneEventPerKeyAndPeriodThroughAndCountTheRest() {
        assertEquals(0, throttle.permit("a"));
        assertEquals(-1, throttle.permit("a"));
        assertEquals(-1, throttle.permit("a"));
        assertEquals(0, throttle.permit("b"), "keys are independent");
        now.addAndGet(100);
        assertEquals(2, throttle.permit("a"), "two were held back");
        assertEquals(-1, throttle.permit("a"));
    }

    @Test
    void shouldStayBoundedWithManyKeys() {
        for (int i = 0; i < 10 * LogThrottle.MAX_KEYS; i++) {
            throttle.permit(i);
        }
        assertEquals(-1, throttle.permit(-1), "new keys share the overflow key while the table is full of fresh keys");
        now.addAndGet(100);
        assertEquals(0, throttle.permit(-2), "old keys are pruned once their period is over");
    }
}
