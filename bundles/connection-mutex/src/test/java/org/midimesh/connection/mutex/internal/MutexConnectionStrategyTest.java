package org.midimesh.connection.mutex.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.midimesh.api.test.Configs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
@SuppressWarnings("try") // a LockHolder is held for its effect, not referenced
class MutexConnectionStrategyTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private MutexConnectionStrategy strategy;

    @AfterEach
    void stop() {
        if (strategy != null) {
            strategy.deactivate();
        }
    }

    private MutexConnectionStrategy start(Map<String, Object> config) {
        strategy = new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, config));
        return strategy;
    }

    private static ConnectionContext context(Handshaker h) {
        return FakePeers.context(h, new RecordingPeerLink());
    }

    private static EngineEvents events() {
        return new RecordingConnectionListener().asEngineEvents();
    }

    private static Set<String> mutexThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("midimesh-mutex-")).collect(Collectors.toSet());
    }

    @Test
    void shouldBeNamedMutexAndOwnADaemonNotifyThread() {
        start(Map.of());
        assertEquals("mutex", strategy.name());
        assertTrue(mutexThreads().contains("midimesh-mutex-notify"), mutexThreads().toString());
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("midimesh-mutex-")).allMatch(Thread::isDaemon));
    }

    @Test
    void shouldUseTheDefaultsForInvalidConfiguration() {
        start(Map.of("lock_timeout_ms", 0L, "handshake_threads", 0));
        assertEquals(MutexConnectionStrategy.DEFAULT_LOCK_TIMEOUT_MS, strategy.lockTimeoutMillis());
        assertEquals(MutexConnectionStrategy.DEFAULT_HANDSHAKE_THREADS,
                ((java.util.concurrent.ThreadPoolExecutor) strategy.connectExecutor()).getMaximumPoolSize());
    }

    @Test
    void shouldApplyAModifiedConfigurationLive() {
        start(Map.of());
        strategy.modified(Configs.of(MutexConnectionStrategy.Config.class,
                Map.of("lock_timeout_ms", 250L, "handshake_threads", 5)));
        assertEquals(250, strategy.lockTimeoutMillis());
        assertEquals(5, ((java.util.concurrent.ThreadPoolExecutor) strategy.connectExecutor()).getCorePoolSize());
        strategy.modified(Configs.of(MutexConnectionStrategy.Config.class, Map.of("handshake_threads", 1)));
        assertEquals(1, ((java.util.concurrent.ThreadPoolExecutor) strategy.connectExecutor()).getMaximumPoolSize());
    }

    @Test
    void shouldCloseItsConnectionsAndStopItsThreadsOnDeactivation() {
        start(Map.of());
        NodeId peer = NodeId.random();
        ControllableHandshaker blocked = ControllableHandshaker.scripted();
        RecordingConnectionListener listener = new RecordingConnectionListener();
        ConnectionEngine connecting = strategy.create(context(blocked), listener.asEngineEvents());
        ConnectionEngine connected = strategy.create(context(ControllableHandshaker.scripted()),
                listener.asEngineEvents());
        connecting.connect();
        await().atMost(WAIT).until(() -> blocked.calls() == 1);
        connected.handshakeCompleted(handshake(peer, 1));
        assertEquals(CONNECTED, connected.getState());
        assertEquals(2, strategy.openConnections());

        strategy.deactivate();
        strategy.deactivate(); // idempotent

        assertEquals(DISCONNECTED, connecting.getState());
        assertEquals(DISCONNECTED, connected.getState());
        assertEquals(0, strategy.openConnections());
        assertTrue(listener.whats().contains("CONNECTING>DISCONNECTED"), listener.whats().toString());
        assertTrue(listener.whats().contains("CONNECTED>DISCONNECTED"), listener.whats().toString());
        await().atMost(WAIT).until(() -> mutexThreads().isEmpty());
        assertThrows(IllegalStateException.class,
                () -> strategy.create(context(ControllableHandshaker.scripted()), events()));
        connected.connect(); // a closed connection ignores commands, even with its strategy gone
        assertEquals(DISCONNECTED, connected.getState());
    }

    @Test
    void shouldSumTheMetricsOfItsOpenConnections() {
        start(Map.of());
        ConnectionEngine a = strategy.create(context(ControllableHandshaker.scripted()), events());
        ConnectionEngine b = strategy.create(context(ControllableHandshaker.scripted()), events());
        a.getState();
        b.getState();
        b.getRemoteDevices();

        MutexConnectionMetrics total = strategy.detailedMetrics();

        assertEquals(3, total.totalQueries());
        assertEquals(3, strategy.metrics().totalQueries());
        assertEquals("mutex", strategy.metrics().strategy());
        assertEquals(List.of("total_queries", "mutex_contentions", "contention_percent", "callbacks_dispatched"),
                List.copyOf(total.toMap().keySet()).subList(0, 4));
    }

    @Test
    void shouldCountEveryTimedOutWaitAsAStallInTheTotalsAlsoAfterClose() throws Exception {
        start(Map.of("lock_timeout_ms", 5L));
        MutexConnectionEngine c =
                (MutexConnectionEngine) strategy.create(context(ControllableHandshaker.scripted()), events());
        try (LockHolder holder = new LockHolder(c)) {
            c.getState(); // times out, answers from the snapshot
        }
        assertEquals(1, strategy.metrics().stalls());
        assertEquals(1L, strategy.detailedMetrics().toMap().get("stalls"));

        c.close();

        assertEquals(0, strategy.openConnections());
        assertEquals(1, strategy.metrics().stalls(), "a closed engine's stalls stay in the totals");
    }

    @Test
    void shouldRejectANullContextOrEvents() {
        start(Map.of());
        assertThrows(NullPointerException.class, () -> strategy.create(null, events()));
        assertThrows(NullPointerException.class,
                () -> strategy.create(context(ControllableHandshaker.scripted()), null));
        assertThrows(NullPointerException.class, () -> strategy.adopt(null, events()));
        assertEquals(0, strategy.openConnections());
    }
}
