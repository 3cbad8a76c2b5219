package org.midimesh.connection.seda.internal;

import static org.midimesh.connection.seda.internal.Wait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class SedaConnectionStrategyTest {

    private final RecordingPeerLink link = new RecordingPeerLink();
    private final EngineEvents events = new RecordingConnectionListener().asEngineEvents();
    private SedaConnectionStrategy strategy;

    @AfterEach
    void stop() {
        if (strategy != null) {
            strategy.deactivate();
        }
    }

    private SedaConnectionStrategy start(Map<String, Object> config) {
        strategy = new SedaConnectionStrategy(Configs.of(SedaConnectionStrategy.Config.class, config));
        return strategy;
    }

    private ConnectionContext context() {
        return FakePeers.context(ControllableHandshaker.scripted(), link);
    }

    private static List<Thread> threads(String regex) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().matches(regex))
                .toList();
    }

    @Test
    void shouldBeNamedSedaUnderItsConfigurationPid() {
        // The @Component annotation (CLASS retention) uses these constants; the built bundle's descriptor is
        // checked by the in-framework tests.
        assertEquals("seda", start(Map.of()).name());
        assertEquals("seda", SedaConnectionStrategy.NAME);
        assertEquals("org.midimesh.connection.seda", SedaConnectionStrategy.PID);
        assertEquals("strategy", ConnectionStrategy.STRATEGY_PROPERTY);
    }

    @Test
    void shouldOwnNamedDaemonThreadsAndNoThreadPerConnection() throws Exception {
        start(Map.of("worker_threads", 3));
        for (int i = 0; i < 50; i++) {
            strategy.create(context(), events).handshakeCompleted(handshake(NodeId.random(), 0));
        }
        assertEquals(3, strategy.workers().getPoolSize());
        assertEquals(1, strategy.notifier().getPoolSize());
        await().until(() -> threads("midimesh-seda-notify").stream().anyMatch(Thread::isDaemon));
        assertTrue(threads("midimesh-seda-\\d+").stream().allMatch(Thread::isDaemon));
        assertTrue(strategy.workers().getPoolSize() <= 3);
    }

    @Test
    void shouldUseTheDefaultsForInvalidConfiguration() {
        start(Map.of("worker_threads", 0, "queue_capacity", -1, "query_timeout_ms", 0L, "shutdown_timeout_ms", -5L,
                "handshake_threads", 1000));
        assertEquals(new SedaConnectionStrategy.Settings(2, 16_384, 1000, 2000, 2, true), strategy.settings());
        assertEquals(2, strategy.workers().getCorePoolSize());
        assertEquals(2, strategy.handshakes().getCorePoolSize());
    }

    @Test
    void shouldApplyAModifiedConfigurationLive() {
        start(Map.of());
        strategy.modified(Configs.of(SedaConnectionStrategy.Config.class, Map.of("worker_threads", 4,
                "handshake_threads", 1, "query_timeout_ms", 5L, "queue_capacity", 8, "send_on_caller", false)));
        assertEquals(new SedaConnectionStrategy.Settings(4, 8, 5, 2000, 1, false), strategy.settings());
        assertEquals(4, strategy.workers().getMaximumPoolSize());
        assertEquals(1, strategy.handshakes().getMaximumPoolSize());
        SedaConnectionEngine c = (SedaConnectionEngine) strategy.create(context(), events);
        assertEquals(8, c.mailbox().capacity(), "new engines get the new capacity");
    }

    @Test
    void shouldCloseItsConnectionsAndStopItsThreadsOnDeactivation() throws Exception {
        start(Map.of());
        RecordingConnectionListener listener = new RecordingConnectionListener();
        SedaConnectionEngine c = (SedaConnectionEngine) strategy.create(context(), listener.asEngineEvents());
        c.handshakeCompleted(handshake(NodeId.random(), 0));
        await().until(() -> c.getState() == CONNECTED);

        strategy.deactivate();
        strategy.deactivate(); // idempotent

        assertEquals(DISCONNECTED, c.getState());
        assertTrue(c.closedFuture().isDone());
        assertTrue(strategy.workers().isTerminated());
        assertTrue(strategy.notifier().isTerminated(), "stopped after delivering the last events");
        assertTrue(strategy.handshakes().isShutdown());
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), listener.whats());
        assertEquals(0, strategy.openConnections());
        assertThrows(IllegalStateException.class, () -> strategy.create(context(), events));
        Handover h = new Handover(context(), DISCONNECTED, Optional.empty(), Long.MIN_VALUE, List.of());
        assertThrows(IllegalStateException.class, () -> strategy.adopt(h, events));
        assertEquals(0, strategy.uncaughtFailures());
    }

    @Test
    void shouldTotalTheMetricsOfOpenAndClosedConnections() throws Exception {
        start(Map.of());
        ConnectionEngine a = strategy.create(context(), events);
        ConnectionEngine b = strategy.create(context(), events);
        for (int i = 0; i < 100; i++) {
            a.getState();
            b.getRemoteDevices();
        }
        a.close();
        ((SedaConnectionEngine) a).closedFuture().get(20, TimeUnit.SECONDS);
        b.send(numberedFrame(1)); // not connected: dropped

        ConnectionMetrics m = strategy.metrics();
        assertEquals("seda", m.strategy());
        assertEquals(200, m.totalQueries(), "the closed connection still counts");
        assertEquals(0, m.mutexContentions());
        assertEquals(1, m.droppedMessages());
        assertEquals(0, m.stalls());
        assertTrue(m.commandsProcessed() >= 1, m.toString());
        assertTrue(m.queryLatency().count() >= 2, m.toString());
        assertEquals(1, strategy.openConnections());
    }

    @Test
    void shouldTotalTheStallsOfOpenAndRetiredEngines() throws Exception {
        start(Map.of("query_timeout_ms", 50L, "queue_capacity", 1));
        SedaConnectionEngine a = (SedaConnectionEngine) strategy.create(context(), events);
        SedaConnectionEngine b = (SedaConnectionEngine) strategy.create(context(), events);
        for (SedaConnectionEngine c : List.of(a, b)) {
            c.handshakeCompleted(handshake(NodeId.random(), 0));
            await().until(() -> c.getState() == CONNECTED);
        }
        CompletableFuture<Boolean> first = HeldSend.hold(a, link, numberedFrame(1)); // a's owner is stuck in the link
        assertTrue(a.send(numberedFrame(2)));
        assertFalse(a.send(numberedFrame(3)), "full: a stall");
        assertThrows(TimeoutException.class, a::inspect); // a second one
        b.close();
        b.closedFuture().get(20, TimeUnit.SECONDS);
        assertEquals(0, b.metrics().stalls());

        assertEquals(2, a.metrics().stalls());
        assertEquals(2, strategy.metrics().stalls(), "the open engine's stalls, and the closed one's none");
        link.openGate();
        assertTrue(first.get(20, TimeUnit.SECONDS));
        a.close();
        a.closedFuture().get(20, TimeUnit.SECONDS);
        assertEquals(2, strategy.metrics().stalls(), "kept once the engine retired");
        assertEquals(0, strategy.openConnections());
    }

    @Test
    void shouldRejectANullContextHandoverOrEvents() {
        start(Map.of());
        Handover h = new Handover(context(), DISCONNECTED, Optional.empty(), Long.MIN_VALUE, List.of());
        assertThrows(NullPointerException.class, () -> strategy.create(null, events));
        assertThrows(NullPointerException.class, () -> strategy.create(context(), null));
        assertThrows(NullPointerException.class, () -> strategy.adopt(null, events));
        assertThrows(NullPointerException.class, () -> strategy.adopt(h, null));
        assertEquals(0, strategy.openConnections());
    }
}
