package org.midimesh.connection.mutex.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

/** The mutex side of a hot swap, beyond what the shared contract suite can reach; and the sampled latency. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
@SuppressWarnings("try") // a LockHolder is held for its effect, not referenced
class MutexHandoverTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final NodeId PEER = NodeId.random();

    private final RecordingPeerLink link = new RecordingPeerLink();
    private final RecordingConnectionListener listener = new RecordingConnectionListener();
    private MutexConnectionStrategy from;
    private MutexConnectionStrategy to;

    @AfterEach
    void stop() {
        if (from != null) {
            from.deactivate();
        }
        if (to != null) {
            to.deactivate();
        }
    }

    private void start(Map<String, Object> config) {
        from = new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, config));
        to = new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, Map.of()));
    }

    private ConnectionContext context(Handshaker h) {
        return FakePeers.context(h, link);
    }

    private MutexNetworkConnection connected(int devices) {
        MutexNetworkConnection c = (MutexNetworkConnection) from.create(context(ControllableHandshaker.scripted()));
        c.addListener(listener);
        c.handshakeCompleted(handshake(PEER, devices));
        int callbacks = devices > 0 ? 2 : 1;
        await().atMost(WAIT).until(() -> c.getState() == CONNECTED && listener.size() >= callbacks);
        return c;
    }

    private static NetworkConnection handOver(NetworkConnection c, MutexConnectionStrategy target) {
        ConnectionHandover h = c.beginHandover();
        NetworkConnection next = target.adopt(h);
        c.completeHandover(next);
        return next;
    }

    @Test
    void shouldRefuseABeginHandoverFromAListenerCallbackAndStayUsable() {
        start(Map.of());
        MutexNetworkConnection c = (MutexNetworkConnection) from.create(context(ControllableHandshaker.scripted()));
        CompletableFuture<Throwable> inCallback = new CompletableFuture<>();
        c.addListener((conn, f, t) -> {
            try {
                conn.beginHandover();
                inCallback.complete(null);
            } catch (Throwable e) {
                inCallback.complete(e);
            }
        });

        c.handshakeCompleted(handshake(PEER, 1));

        Throwable thrown = inCallback.orTimeout(10, TimeUnit.SECONDS).join();
        assertTrue(thrown instanceof IllegalStateException, String.valueOf(thrown));
        NetworkConnection next = handOver(c, to); // still possible from another thread
        assertEquals(CONNECTED, next.getState());
    }

    @Test
    void shouldReplayACommandDeferredBeforeTheHandoverInItsPlace() throws Exception {
        start(Map.of("lock_timeout_ms", 20L));
        MutexNetworkConnection c = connected(1);
        CompletableFuture<ConnectionHandover> begun;
        try (LockHolder holder = new LockHolder(c)) {
            c.disconnect(); // times out: deferred to the notification thread
            c.handshakeCompleted(handshake(PEER, 2)); // queues behind it
            begun = CompletableFuture.supplyAsync(c::beginHandover);
            await().atMost(WAIT).until(() -> c.detailedMetrics().deferredCommands() >= 2);
        }
        ConnectionHandover h = begun.get(10, TimeUnit.SECONDS);
        NetworkConnection next = to.adopt(h);
        c.completeHandover(next);

        await().atMost(WAIT).until(() -> listener.states().size() >= 3 && next.getRemoteDevices().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                listener.states());
        assertEquals(CONNECTED, next.getState());
    }

    @Test
    void shouldLeaveAConnectionBeingHandedOverAloneOnDeactivation() {
        start(Map.of());
        MutexNetworkConnection moving = connected(1);
        MutexNetworkConnection staying =
                (MutexNetworkConnection) from.create(context(ControllableHandshaker.scripted()));
        ConnectionHandover h = moving.beginHandover();

        from.deactivate();
        from = null;

        assertEquals(DISCONNECTED, staying.getState());
        NetworkConnection next = to.adopt(h);
        moving.completeHandover(next);
        assertEquals(CONNECTED, next.getState());
        assertTrue(next.send(numberedFrame(1)));
        assertEquals(1, link.dataCount());
    }

    @Test
    void shouldKeepHandedOverCountersInTheOldStrategysTotals() {
        start(Map.of());
        MutexNetworkConnection c = connected(0);
        for (int i = 0; i < 100; i++) {
            c.getState();
        }
        long before = from.metrics().totalQueries();

        NetworkConnection next = handOver(c, to);
        c.getState(); // forwarded: counted by the successor

        assertEquals(0, from.openConnections());
        assertEquals(1, to.openConnections());
        assertTrue(from.metrics().totalQueries() >= before, from.metrics().toString());
        assertTrue(to.metrics().totalQueries() >= 1);
        assertEquals("mutex", c.metrics().strategy());
        assertEquals(next.metrics().totalQueries(), c.metrics().totalQueries(), "metrics() forwards too");
    }

    @Test
    void shouldSendHandedOverFramesFirstAndFireNoCallback() {
        start(Map.of());
        DataFrame first = numberedFrame(1);
        DataFrame second = numberedFrame(2);
        Handshake peer = handshake(PEER, 2);
        long heartbeat = System.nanoTime() - TimeUnit.SECONDS.toNanos(5);
        ConnectionHandover h = new ConnectionHandover(context(ControllableHandshaker.scripted()), CONNECTED,
                Optional.of(peer), heartbeat, List.of(listener), List.of(first, second));

        NetworkConnection c = to.adopt(h);
        assertTrue(c.send(numberedFrame(3)));

        assertEquals(List.of(first, second), link.frames().stream().limit(2).toList());
        assertEquals(3, link.dataCount());
        assertEquals(CONNECTED, c.getState());
        assertEquals(peer.devices(), c.getRemoteDevices());
        assertTrue(c.getTimeSinceLastHeartbeat() >= 5000, "heartbeat time not taken over");
        c.disconnect();
        await().atMost(WAIT).until(() -> listener.size() > 0);
        assertEquals(List.of("CONNECTED>DISCONNECTED"), listener.whats(), "the adoption itself fired a callback");
    }

    @Test
    void shouldRunItsOwnHandshakeWhenAdoptedWhileConnecting() {
        start(Map.of());
        ControllableHandshaker h = ControllableHandshaker.answering(handshake(PEER, 1));
        ConnectionHandover handover = new ConnectionHandover(context(h), CONNECTING, Optional.empty(), Long.MIN_VALUE,
                List.of(listener), List.of());

        NetworkConnection c = to.adopt(handover);

        await().atMost(WAIT).until(() -> c.getState() == CONNECTED);
        await().atMost(WAIT).until(() -> listener.size() >= 2);
        assertEquals(List.of("CONNECTING>CONNECTED", "devices:1"), listener.whats());
        assertEquals(1, h.calls());
    }

    @Test
    void shouldRejectACompleteWithoutABeginAndItselfAsSuccessor() {
        start(Map.of());
        MutexNetworkConnection c = connected(0);
        NetworkConnection other = to.create(context(ControllableHandshaker.scripted()));

        assertThrows(IllegalStateException.class, () -> c.completeHandover(other));
        c.beginHandover();
        assertThrows(IllegalArgumentException.class, () -> c.completeHandover(c));
        assertThrows(NullPointerException.class, () -> c.completeHandover(null));
        c.completeHandover(to.adopt(new ConnectionHandover(context(ControllableHandshaker.scripted()), DISCONNECTED,
                Optional.empty(), Long.MIN_VALUE, List.of(), List.of())));
    }

    @Test
    void shouldRefuseToAdoptWhenStopped() {
        start(Map.of());
        ConnectionHandover h = connected(0).beginHandover();
        to.deactivate();
        assertThrows(IllegalStateException.class, () -> to.adopt(h));
        to = null;
    }

    @Test
    void shouldTimeAboutOneQueryInSixtyFour() {
        start(Map.of());
        MutexNetworkConnection c = connected(0);
        int queries = 64_000;
        for (int i = 0; i < queries; i++) {
            c.getState();
        }

        long samples = c.metrics().queryLatency().count();
        long expected = queries / org.midimesh.common.metrics.QueryMeter.SAMPLE_EVERY;
        assertTrue(samples > expected / 2 && samples < expected * 2, samples + " samples, about " + expected
                + " expected");
        assertTrue(from.metrics().queryLatency().count() >= samples);
    }

    @Test
    void shouldKeepAHeartbeatArrivingDuringTheHandover() {
        start(Map.of());
        MutexNetworkConnection c = connected(0);
        await().atMost(WAIT).until(() -> c.getTimeSinceLastHeartbeat() >= 50);

        ConnectionHandover h = c.beginHandover();
        long keptAt = System.nanoTime();
        c.notifyHeartbeat(); // kept
        NetworkConnection next = to.adopt(h);
        long carried = next.getTimeSinceLastHeartbeat();
        c.completeHandover(next);
        long age = next.getTimeSinceLastHeartbeat();
        long sinceKept = (System.nanoTime() - keptAt) / 1_000_000;

        assertTrue(carried >= 50, "the carried heartbeat age: " + carried);
        assertTrue(age <= sinceKept, "the kept heartbeat was not replayed: age " + age + " ms, " + sinceKept
                + " ms since it arrived");
        assertEquals(CONNECTED, next.getState());
    }
}
