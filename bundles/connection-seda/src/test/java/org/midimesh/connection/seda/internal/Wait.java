package org.midimesh.connection.seda.internal;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/** Awaitility with a 20 s bound that checks at once and then every 2 ms (the default waits 100 ms first). */
final class Wait {

    static final Duration MAX = Duration.ofSeconds(20);

    private Wait() {
    }

    static ConditionFactory await() {
        return Awaitility.await().atMost(MAX).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
    }
}
