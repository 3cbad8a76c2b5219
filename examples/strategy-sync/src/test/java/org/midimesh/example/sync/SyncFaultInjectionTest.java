package org.midimesh.example.sync;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.example.sync.SyncFixtures.WAIT;
import static org.midimesh.example.sync.SyncFixtures.config;
import static org.midimesh.example.sync.SyncFixtures.waiting;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

/**
 * The fault injection the canary policy's in-framework tests use (a test fixture, off by default): real lock
 * contention from the hog thread, a query delay, error events; all of them changed live through {@code @Modified}.
 */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SyncFaultInjectionTest {

    private final SyncFixtures fx = new SyncFixtures();

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void shouldInjectNothingByDefault() {
        SyncConnectionStrategy s = fx.start(Map.of());
        RecordingConnectionListener l = new RecordingConnectionListener();
        ConnectionEngine e = fx.connected(s, l);

        assertFalse(s.hogRunning(), "a hog thread runs with fault injection off");
        for (int i = 0; i < 10_000; i++) {
            e.getState();
            e.getRemoteDevices();
        }
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> l.errors().isEmpty());

        ConnectionMetrics m = e.metrics();
        assertEquals(20_000, m.totalQueries(), m.toString());
        assertEquals(0, m.mutexContentions(), "only this thread took the lock: " + m);
        assertEquals(0, m.errors(), m.toString());
        assertEquals(0, m.stalls(), m.toString());
        ConnectionMetrics total = s.metrics();
        assertEquals(0, total.mutexContentions(), total.toString());
        assertEquals(0, total.errors(), total.toString());
    }

    @Test
    void shouldCountRealContentionWhileTheHogHoldsTheLocks() {
        SyncConnectionStrategy s = fx.start(Map.of("inject_lock_hold_us", 2000L, "inject_hold_every_ms", 2L));
        ConnectionEngine e = fx.connected(s, new RecordingConnectionListener());
        assertTrue(s.hogRunning());

        waiting().until(() -> {
            for (int i = 0; i < 100; i++) {
                e.getState();
            }
            return e.metrics().mutexContentions() > 0;
        });

        ConnectionMetrics m = e.metrics();
        assertTrue(m.mutexContentions() <= m.totalQueries(), m.toString());
        assertTrue(s.metrics().mutexContentions() >= m.mutexContentions(), "strategy totals miss contentions");
        assertEquals(CONNECTED, e.getState(), "a query under contention answered wrong");
    }

    @Test
    void shouldStartAndStopTheHogThreadWithTheConfiguration() {
        SyncConnectionStrategy s = fx.start(Map.of());
        assertFalse(s.hogRunning());

        s.modified(config(Map.of("inject_lock_hold_us", 100L)));
        assertTrue(s.hogRunning(), "lock holding needs the hog");
        s.modified(config(Map.of()));
        assertFalse(s.hogRunning(), "the hog still runs with fault injection off");
        s.modified(config(Map.of("inject_errors_per_second", 1)));
        assertTrue(s.hogRunning(), "injected errors need the hog");
        s.modified(config(Map.of("inject_query_delay_us", 10L)));
        assertFalse(s.hogRunning(), "a query delay needs no thread");

        s.modified(config(Map.of("inject_lock_hold_us", 100L)));
        s.deactivate();
        assertFalse(s.hogRunning());
        assertTrue(s.threadsStopped());
    }

    @Test
    void shouldTurnInvalidSettingsOffOrToTheirDefaults() {
        SyncConnectionStrategy s = fx.start(Map.of("inject_lock_hold_us", -5L, "inject_errors_per_second", 20_000,
                "inject_hold_every_ms", 0L, "lock_timeout_ms", 0L, "handover_timeout_ms", -1L));

        assertFalse(s.hogRunning(), "an invalid fault setting turned the hog on");
        assertEquals(SyncConnectionStrategy.DEFAULT_LOCK_TIMEOUT_MS, s.lockTimeoutMs());
        assertEquals(SyncConnectionStrategy.DEFAULT_HANDOVER_TIMEOUT_MS, s.handoverTimeoutMs());
    }

    @Test
    void shouldDelayEveryQueryOnceTurnedOnLive() {
        SyncConnectionStrategy s = fx.start(Map.of());
        ConnectionEngine e = fx.connected(s, new RecordingConnectionListener());
        long delayNanos = TimeUnit.MILLISECONDS.toNanos(5);

        s.modified(config(Map.of("inject_query_delay_us", 5_000L)));
        long t0 = System.nanoTime();
        assertEquals(CONNECTED, e.getState());
        long took = System.nanoTime() - t0;

        // A lower bound the busy-wait guarantees, not a speed limit.
        assertTrue(took >= delayNanos, "the query took " + took + " ns, less than the injected delay");
        waiting().until(() -> {
            e.getState();
            return e.metrics().queryLatency().maxNs() >= delayNanos;
        });
        assertTrue(s.metrics().queryLatency().maxNs() >= delayNanos, "the strategy's latency misses the delay");
    }

    @Test
    void shouldRaiseErrorEventsOnConnectedEnginesOnlyUntilTurnedOff() {
        SyncConnectionStrategy s = fx.start(Map.of());
        RecordingConnectionListener l = new RecordingConnectionListener();
        ConnectionEngine e = fx.connected(s, l);
        RecordingConnectionListener idle = new RecordingConnectionListener();
        ConnectionEngine d = s.create(fx.context(fx.scripted(), new RecordingPeerLink()), idle.asEngineEvents());

        s.modified(config(Map.of("inject_errors_per_second", 500, "inject_hold_every_ms", 2L)));
        waiting().until(() -> l.errors().size() >= 10);
        waiting().until(() -> e.metrics().errors() >= 10);
        assertTrue(s.metrics().errors() >= 10, s.metrics().toString());
        assertEquals(CONNECTED, e.getState(), "an injected error changed the state");
        assertEquals(List.of("DISCONNECTED>CONNECTED"), l.states());

        s.modified(config(Map.of()));
        assertFalse(s.hogRunning());
        waiting().until(() -> l.errors().size() == e.metrics().errors()); // what was raised has been delivered
        int raised = l.errors().size();
        await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> l.errors().size() == raised);

        assertEquals(List.of(), idle.errors(), "a DISCONNECTED engine got injected errors");
        assertEquals(0, d.metrics().errors());
    }
}
