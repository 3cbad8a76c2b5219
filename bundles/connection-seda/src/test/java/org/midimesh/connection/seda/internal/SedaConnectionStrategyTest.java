package org.midimesh.connection.seda.internal;

import static org.midimesh.connection.seda.internal.Wait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.connection.NetworkConnection;
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
        assertEquals("org.midimesh.connection.seda", SedaConnectionStrategy.PID);
        assertEquals("strategy", ConnectionStrategy.STRATEGY_PROPERTY);
    }

    @Test
    void shouldOwnNamedDaemonThreadsAndNoThreadPerConnection() throws Exception {
        start(Map.of("worker_threads", 3));
        for (int i = 0; i < 50; i++) {
            strategy.create(context()).handshakeCompleted(handshake(NodeId.random(), 0));
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
        assertEquals(new SedaConnectionStrategy.Settings(2, 1024, 1000, 2000, 2), strategy.settings());
        assertEquals(2, strategy.workers().getCorePoolSize());
        assertEquals(2, strategy.handshakes().getCorePoolSize());
    }

    @Test
    void shouldApplyAModifiedConfigurationLive() {
        start(Map.of());
        strategy.modified(Configs.of(SedaConnectionStrategy.Config.class, Map.of("worker_threads", 4,
                "handshake_threads", 1, "query_timeout_ms", 5L, "queue_capacity", 8)));
        assertEquals(new SedaConnectionStrategy.Settings(4, 8, 5, 2000, 1), strategy.settings());
        assertEquals(4, strategy.workers().getMaximumPoolSize());
        assertEquals(1, strategy.handshakes().getMaximumPoolSize());
        SedaNetworkConnection c = (SedaNetworkConnection) strategy.create(context());
        assertEquals(8, c.mailbox().capacity(), "new connections get the new capacity");
    }

    @Test
    void shouldCloseItsConnectionsAndStopItsThreadsOnDeactivation() throws Exception {
        start(Map.of());
        RecordingConnectionListener listener = new RecordingConnectionListener();
        SedaNetworkConnection c = (SedaNetworkConnection) strategy.create(context());
        c.addListener(listener);
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
        assertThrows(IllegalStateException.class, () -> strategy.create(context()));
        ConnectionHandover h = new ConnectionHandover(context(), DISCONNECTED, Optional.empty(), Long.MIN_VALUE,
                List.of(), List.of());
        assertThrows(IllegalStateException.class, () -> strategy.adopt(h));
        assertEquals(0, strategy.uncaughtFailures());
    }

    @Test
    void shouldTotalTheMetricsOfOpenAndClosedConnections() throws Exception {
        start(Map.of());
        NetworkConnection a = strategy.create(context());
        NetworkConnection b = strategy.create(context());
        for (int i = 0; i < 100; i++) {
            a.getState();
            b.getRemoteDevices();
        }
        a.close();
        ((SedaNetworkConnection) a).closedFuture().get(20, TimeUnit.SECONDS);
        b.send(numberedFrame(1)); // not connected: dropped

        ConnectionMetrics m = strategy.metrics();
        assertEquals("seda", m.strategy());
        assertEquals(200, m.totalQueries(), "the closed connection still counts");
        assertEquals(0, m.mutexContentions());
        assertEquals(1, m.droppedMessages());
        assertTrue(m.commandsProcessed() >= 1, m.toString());
        assertTrue(m.queryLatency().count() >= 2, m.toString());
        assertEquals(1, strategy.openConnections());
    }

    @Test
    void shouldRejectANullContextOrHandover() {
        start(Map.of());
        assertThrows(NullPointerException.class, () -> strategy.create(null));
        assertThrows(NullPointerException.class, () -> strategy.adopt(null));
    }
}
