package org.midimesh.heartbeat.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.connection.ConnectionState.FAILED;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.midimesh.api.test.Configs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.test.DeadlockWatchdog;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class HeartbeatMonitorTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration HOUR = Duration.ofHours(1);

    private final FakePool pool = new FakePool();
    private final RecordingLink link = new RecordingLink();
    private HeartbeatMonitor monitor;

    @AfterEach
    void stop() {
        if (monitor != null) {
            monitor.deactivate();
        }
    }

    private HeartbeatMonitor start(Map<String, Object> config) {
        monitor = new HeartbeatMonitor(pool, link, Configs.of(HeartbeatMonitor.Config.class, config));
        return monitor;
    }

    private FakeConnection add(FakeConnection c) {
        pool.connections.add(c);
        return c;
    }

    private static boolean heartbeatThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().equals(HeartbeatMonitor.THREAD_NAME));
    }

    @Test
    void shouldSendHeartbeatsToConnectedPeersOnly() {
        FakeConnection connected = add(new FakeConnection(CONNECTED, FakeConnection.node(), HOUR));
        FakeConnection noNode = add(new FakeConnection(CONNECTED, null, HOUR));
        FakeConnection connecting = add(new FakeConnection(CONNECTING, FakeConnection.node(), HOUR));
        FakeConnection failed = add(new FakeConnection(FAILED, FakeConnection.node(), HOUR));
        FakeConnection disconnected = add(new FakeConnection(DISCONNECTED, FakeConnection.node(), HOUR));
        start(Map.of("interval_ms", 20L, "check_period_ms", 20L, "timeout_ms", HOUR.toMillis()));

        await().atMost(WAIT).until(() -> link.heartbeats.size() >= 3 && connected.checks.get() >= 3);
        monitor.deactivate();

        assertTrue(link.heartbeats.stream().allMatch(n -> n.equals(connected.node)), link.heartbeats.toString());
        assertEquals(link.heartbeats.size(), monitor.getHeartbeatsSent());
        assertTrue(noNode.checks.get() > 0, "a connected peer without a known node is still checked");
        assertEquals(0, connecting.checks.get() + failed.checks.get() + disconnected.checks.get());
        assertEquals(CONNECTED, connected.state);
        assertEquals(0, monitor.getTimeoutsDetected());
        assertEquals(0, monitor.getErrors());
    }

    @Test
    void shouldCheckAndFailASilentConnectedPeer() {
        FakeConnection silent = add(new FakeConnection(CONNECTED, FakeConnection.node(), Duration.ofMillis(50)));
        FakeConnection alive = add(new FakeConnection(CONNECTED, FakeConnection.node(), Duration.ofMillis(50)));
        alive.alive = true;
        start(Map.of("interval_ms", HOUR.toMillis(), "check_period_ms", 10L, "timeout_ms", 50L));

        await().atMost(WAIT).until(() -> silent.state == FAILED);
        await().atMost(WAIT).until(() -> monitor.getTimeoutsDetected() == 1);
        long rounds = monitor.checkRounds();
        await().atMost(WAIT).until(() -> monitor.checkRounds() >= rounds + 3);

        assertEquals(1, monitor.getTimeoutsDetected(), "counted once per silence");
        assertEquals(CONNECTED, alive.state);
        assertTrue(alive.checks.get() >= 3);
        assertEquals(0, link.heartbeats.size());
    }

    @Test
    void shouldGoOnWhenAConnectionThrows() {
        FakeConnection broken = add(new FakeConnection(CONNECTED, FakeConnection.node(), HOUR));
        broken.throwOnGetState = true;
        FakeConnection good = add(new FakeConnection(CONNECTED, FakeConnection.node(), HOUR));
        start(Map.of("interval_ms", 10L, "check_period_ms", 10L));

        await().atMost(WAIT).until(() -> link.heartbeats.size() >= 3 && good.checks.get() >= 3);

        assertTrue(monitor.getErrors() >= 2, "errors counted: " + monitor.getErrors());
        assertTrue(link.heartbeats.stream().allMatch(n -> n.equals(good.node)));
    }

    @Test
    void shouldPickUpConnectionsAddedLater() {
        start(Map.of("interval_ms", 10L, "check_period_ms", 10L));
        FakeConnection late = add(new FakeConnection(CONNECTED, FakeConnection.node(), HOUR));

        await().atMost(WAIT).until(() -> link.heartbeats.contains(late.node) && late.checks.get() > 0);
    }

    @Test
    void shouldApplyAModifiedConfiguration() {
        FakeConnection connected = add(new FakeConnection(CONNECTED, FakeConnection.node(), HOUR));
        start(Map.of("interval_ms", HOUR.toMillis(), "check_period_ms", HOUR.toMillis()));

        monitor.modified(Configs.of(HeartbeatMonitor.Config.class, Map.of("interval_ms", 10L, "check_period_ms", 10L)));

        await().atMost(WAIT).until(() -> link.heartbeats.size() >= 2 && connected.checks.get() >= 2);
        assertEquals(new HeartbeatMonitor.Settings(10, 10, HeartbeatMonitor.DEFAULT_TIMEOUT_MS), monitor.settings());
    }

    @Test
    void shouldUseTheDefaultsForInvalidConfiguration() {
        start(Map.of("interval_ms", 0L, "check_period_ms", -5L, "timeout_ms", 0L));
        assertEquals(new HeartbeatMonitor.Settings(HeartbeatMonitor.DEFAULT_INTERVAL_MS,
                HeartbeatMonitor.DEFAULT_CHECK_PERIOD_MS, HeartbeatMonitor.DEFAULT_TIMEOUT_MS), monitor.settings());
    }

    @Test
    void shouldOwnADaemonThreadAndStopItOnDeactivation() {
        start(Map.of());
        assertTrue(heartbeatThreadAlive());
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(HeartbeatMonitor.THREAD_NAME)).allMatch(Thread::isDaemon));

        monitor.deactivate();

        await().atMost(WAIT).until(() -> !heartbeatThreadAlive());
    }
}
