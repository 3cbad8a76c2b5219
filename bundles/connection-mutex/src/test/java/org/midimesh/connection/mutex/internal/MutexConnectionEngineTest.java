package org.midimesh.connection.mutex.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.connection.ConnectionState.FAILED;
import static org.midimesh.api.test.contract.FakePeers.checkWhole;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.midimesh.api.test.Configs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

/** One mutex engine on its own, reporting to a recording {@link EngineEvents} (no strategy manager). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
@SuppressWarnings("try") // a LockHolder is held for its effect, not referenced
class MutexConnectionEngineTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration LONG_TIMEOUT = Duration.ofHours(1);
    private static final NodeId PEER = NodeId.random();
    private static final NodeId OTHER = NodeId.random();

    private final RecordingPeerLink link = new RecordingPeerLink();
    // Records the events of every engine made by connection(); replaced (before any engine is made) by a test that
    // checks the locks held while events are delivered.
    private RecordingConnectionListener listener = new RecordingConnectionListener();
    private MutexConnectionStrategy strategy;

    @AfterEach
    void stopStrategy() {
        if (strategy != null) {
            strategy.deactivate();
        }
    }

    private void startStrategy(Map<String, Object> config) {
        strategy = new MutexConnectionStrategy(Configs.of(MutexConnectionStrategy.Config.class, config));
    }

    private MutexConnectionEngine connection(Handshaker handshaker) {
        return connection(handshaker, LONG_TIMEOUT, listener.asEngineEvents());
    }

    private MutexConnectionEngine connection(Handshaker handshaker, Duration heartbeatTimeout) {
        return connection(handshaker, heartbeatTimeout, listener.asEngineEvents());
    }

    private MutexConnectionEngine connection(Handshaker handshaker, Duration heartbeatTimeout, EngineEvents events) {
        if (strategy == null) {
            startStrategy(Map.of());
        }
        return (MutexConnectionEngine) strategy.create(FakePeers.context(handshaker, link, heartbeatTimeout), events);
    }

    /** Returns once every handshake task queued so far has finished (needs handshake_threads = 1). */
    private void drainHandshakes() throws Exception {
        strategy.connectExecutor().submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    private void awaitState(ConnectionEngine c, ConnectionState s) {
        await().atMost(WAIT).until(() -> c.getState() == s);
    }

    private void awaitCalls(List<String> expected) {
        await().atMost(WAIT).until(() -> listener.whats().size() >= expected.size());
        assertEquals(expected, listener.whats());
    }

    // ---- state transitions ---------------------------------------------------------------------------------------

    @Test
    void shouldStartDisconnectedWithNothingKnown() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        assertEquals("mutex", c.metrics().strategy());
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
        assertEquals(Optional.empty(), c.getRemoteId());
        assertTrue(c.getRemoteDevices().isEmpty());
        assertEquals(Long.MAX_VALUE, c.getTimeSinceLastHeartbeat());
    }

    @Test
    void shouldConnectThroughConnectingToConnectedOnAHandshakeThread() {
        ControllableHandshaker h = ControllableHandshaker.answering(handshake(PEER, 2));
        MutexConnectionEngine c = connection(h);

        c.connect();

        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:2"));
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(FakePeers.devices(2), c.getRemoteDevices());
        assertTrue(c.getTimeSinceLastHeartbeat() < Long.MAX_VALUE);
        assertEquals(1, h.threads().size());
        assertTrue(h.threads().get(0).startsWith("midimesh-mutex-connect-"), h.threads().get(0));
    }

    @Test
    void shouldNotReportDevicesWhenTheyDidNotChange() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 0));
        c.disconnect();
        c.handshakeCompleted(handshake(PEER, 1));
        c.handshakeCompleted(handshake(PEER, 1));

        awaitCalls(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED",
                "devices:1"));
    }

    @Test
    void shouldFailWithAnErrorWhenTheHandshakeFails() {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);
        h.fail("connection refused");

        c.connect();

        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>FAILED",
                "error:handshake with 127.0.0.1:7474 failed: connection refused"));
        assertEquals(FAILED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
    }

    @Test
    void shouldConnectAgainFromFailed() {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);
        h.fail("refused");
        c.connect();
        awaitState(c, FAILED);

        h.respond(handshake(PEER, 1));
        c.connect();

        awaitState(c, CONNECTED);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>FAILED", "FAILED>CONNECTING",
                "CONNECTING>CONNECTED"), listener.states());
        assertEquals(2, h.calls());
    }

    @Test
    void shouldIgnoreConnectWhileConnectingOrConnected() throws Exception {
        startStrategy(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);

        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1);
        c.connect();
        c.connect();
        h.respond(handshake(PEER, 0));
        awaitState(c, CONNECTED);
        c.connect();
        drainHandshakes();

        assertEquals(1, h.calls());
        await().atMost(WAIT).until(() -> listener.states().size() >= 2);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), listener.states());
    }

    @ParameterizedTest(name = "late handshake succeeds: {0}")
    @ValueSource(booleans = {true, false})
    void shouldLetADisconnectDuringAnInFlightHandshakeWin(boolean lateSuccess) throws Exception {
        startStrategy(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);

        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1);
        c.disconnect();
        assertEquals(DISCONNECTED, c.getState());
        if (lateSuccess) {
            h.respond(handshake(PEER, 3));
        } else {
            h.fail("too late");
        }
        drainHandshakes();

        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
        assertTrue(c.getRemoteDevices().isEmpty());
        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>DISCONNECTED"));
    }

    @Test
    void shouldLetACloseDuringAnInFlightHandshakeWin() throws Exception {
        startStrategy(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);

        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1);
        c.close();
        h.respond(handshake(PEER, 1));
        drainHandshakes();

        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>DISCONNECTED"));
    }

    @Test
    void shouldIgnoreALateOutboundResultAfterAnInboundHandshake() throws Exception {
        startStrategy(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);

        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1);
        c.handshakeCompleted(handshake(PEER, 1));
        h.fail("refused");
        drainHandshakes();

        assertEquals(CONNECTED, c.getState());
        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:1"));
    }

    @Test
    void shouldEnterConnectedOnAnInboundHandshakeFromAnyState() {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h, Duration.ofMillis(50));

        c.handshakeCompleted(handshake(PEER, 0)); // from DISCONNECTED
        await().atMost(WAIT).until(() -> {
            c.checkHeartbeat();
            return c.getState() == FAILED;
        });
        c.handshakeCompleted(handshake(PEER, 0)); // from FAILED
        assertEquals(CONNECTED, c.getState());
        c.handshakeCompleted(handshake(PEER, 0)); // CONNECTED again: no event

        await().atMost(WAIT).until(() -> listener.states().size() >= 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>FAILED", "FAILED>CONNECTED"), listener.states());
    }

    @Test
    void shouldRejectAHandshakeFromAnotherNode() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        c.disconnect();

        c.handshakeCompleted(handshake(OTHER, 2));

        awaitCalls(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED",
                "error:handshake from node " + OTHER + " rejected: this connection belongs to node " + PEER));
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(1, c.getRemoteDevices().size());
    }

    @Test
    void shouldFailWhenTheOutboundHandshakeIsAnsweredByAnotherNode() {
        MutexConnectionEngine c = connection(ControllableHandshaker.answering(handshake(OTHER, 0)));
        c.handshakeCompleted(handshake(PEER, 0));
        c.disconnect();

        c.connect();

        awaitState(c, FAILED);
        assertEquals(Optional.of(PEER), c.getRemoteId());
        await().atMost(WAIT).until(() -> listener.errors().size() == 1);
        assertTrue(listener.errors().get(0).startsWith("handshake from node " + OTHER + " rejected"));
    }

    @Test
    void shouldDisconnectOnGoodbyeAndTreatTheSameStateTwiceAsANoOp() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 0));

        c.goodbyeReceived();
        c.goodbyeReceived();
        c.disconnect();

        assertEquals(DISCONNECTED, c.getState());
        awaitCalls(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"));
        assertEquals(Optional.of(PEER), c.getRemoteId(), "the peer stays known after a goodbye");
    }

    @Test
    void shouldRejectNullArguments() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        assertThrows(NullPointerException.class, () -> c.handshakeCompleted(null));
        assertThrows(NullPointerException.class, () -> c.send(null));
        assertEquals(DISCONNECTED, c.getState());
    }

    // ---- heartbeat -----------------------------------------------------------------------------------------------

    @Test
    void shouldFailASilentConnectedPeerWithAnErrorCallback() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted(), Duration.ofMillis(50));
        c.handshakeCompleted(handshake(PEER, 0));

        await().atMost(WAIT).until(() -> {
            c.checkHeartbeat();
            return c.getState() == FAILED;
        });

        await().atMost(WAIT).until(() -> listener.whats().size() >= 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>FAILED"), listener.states());
        String error = listener.errors().get(0);
        assertTrue(error.matches("heartbeat timeout: no heartbeat for \\d+ ms"), error);
    }

    @Test
    void shouldKeepALivePeerConnectedAndLeaveOtherStatesAlone() {
        MutexConnectionEngine live = connection(ControllableHandshaker.scripted());
        live.handshakeCompleted(handshake(PEER, 0));
        live.checkHeartbeat();
        assertEquals(CONNECTED, live.getState());

        MutexConnectionEngine idle = connection(ControllableHandshaker.scripted(), Duration.ofMillis(1));
        idle.checkHeartbeat();
        assertEquals(DISCONNECTED, idle.getState());
    }

    @Test
    void shouldRefreshTheHeartbeatTime() {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        assertEquals(Long.MAX_VALUE, c.getTimeSinceLastHeartbeat());
        c.handshakeCompleted(handshake(PEER, 0));
        await().atMost(WAIT).until(() -> c.getTimeSinceLastHeartbeat() >= 300);

        c.notifyHeartbeat();

        assertTrue(c.getTimeSinceLastHeartbeat() < 300, "the heartbeat time was refreshed");
    }

    // ---- send ----------------------------------------------------------------------------------------------------

    @Test
    void shouldSendOnlyWhenConnected() {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = connection(h);
        assertFalse(c.send(numberedFrame(1)));

        c.connect();
        assertFalse(c.send(numberedFrame(2)), "not while connecting");
        h.respond(handshake(PEER, 0));
        awaitState(c, CONNECTED);
        assertTrue(c.send(numberedFrame(3)));

        c.disconnect();
        assertFalse(c.send(numberedFrame(4)));

        assertEquals(1, link.dataCount());
        assertEquals(PEER, link.sent().get(0).peer().id());
    }

    // ---- close ---------------------------------------------------------------------------------------------------

    @Test
    void shouldCloseIdempotentlyAndIgnoreLaterCommands() throws Exception {
        startStrategy(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.answering(handshake(PEER, 1));
        MutexConnectionEngine c = connection(h);
        c.handshakeCompleted(handshake(PEER, 1));
        assertEquals(1, strategy.openConnections());

        c.close();
        c.close();
        assertEquals(0, strategy.openConnections());

        c.connect();
        c.handshakeCompleted(handshake(PEER, 2));
        c.checkHeartbeat();
        c.notifyHeartbeat();
        drainHandshakes();
        assertFalse(c.send(numberedFrame(1)));
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(0, h.calls());
        assertEquals(1, c.getRemoteDevices().size());
        awaitCalls(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED"));
        assertTrue(link.sent().isEmpty());
    }

    // ---- events --------------------------------------------------------------------------------------------------

    @Test
    void shouldDeliverEventsOnTheNotifyThreadWithoutTheLock() {
        listener = RecordingConnectionListener.checkingLocks();
        MutexConnectionEngine c = connection(ControllableHandshaker.answering(handshake(PEER, 2)));
        c.connect();
        awaitState(c, CONNECTED);
        c.disconnect();
        c.handshakeCompleted(handshake(OTHER, 0)); // an error event

        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:2", "CONNECTED>DISCONNECTED",
                "error:handshake from node " + OTHER + " rejected: this connection belongs to node " + PEER));
        String me = Thread.currentThread().getName();
        for (RecordingConnectionListener.Call call : listener.calls()) {
            assertEquals("midimesh-mutex-notify", call.thread(), call.what());
            assertFalse(call.thread().equals(me));
            assertEquals(List.of(), call.heldLocks(), "lock held during " + call.what());
            assertNull(call.connection(), "an engine event names no connection");
        }
        // counted after each delivery returns: one per event
        await().atMost(WAIT).until(() -> c.metrics().callbacksDispatched() == 5);
        assertEquals(5, listener.size());
    }

    @Test
    void shouldBeEventReentrancySafe() {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        AtomicReference<MutexConnectionEngine> self = new AtomicReference<>();
        ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        MutexConnectionEngine c = connection(h, LONG_TIMEOUT, new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                MutexConnectionEngine e = self.get();
                seen.add(to + " state=" + e.getState() + " node=" + e.getRemoteId().isPresent() + " devices="
                        + e.getRemoteDevices().size() + " hb=" + (e.getTimeSinceLastHeartbeat() >= 0));
                if (to == CONNECTED) {
                    e.checkHeartbeat(); // commands from inside an event
                    e.disconnect();
                }
            }

            @Override
            public void error(String message) {
                seen.add("error " + message);
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
                seen.add("devices node=" + self.get().getRemoteNode().map(NodeInfo::id).orElse(null));
            }
        });
        self.set(c);

        c.connect();
        await().atMost(WAIT).until(() -> seen.size() >= 1);
        h.respond(handshake(PEER, 2));

        await().atMost(WAIT).until(() -> seen.size() >= 4);
        assertEquals(List.of("CONNECTING state=CONNECTING node=false devices=0 hb=true",
                "CONNECTED state=CONNECTED node=true devices=2 hb=true",
                "devices node=" + PEER,
                "DISCONNECTED state=DISCONNECTED node=true devices=2 hb=true"), new ArrayList<>(seen));
        assertEquals(DISCONNECTED, c.getState());
    }

    @Test
    void shouldGoOnWhenTheEventsSinkThrows() {
        EngineEvents recording = listener.asEngineEvents();
        AtomicInteger calls = new AtomicInteger();
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted(), LONG_TIMEOUT, new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("events sink bug (expected by the test)");
                }
                recording.stateChanged(from, to);
            }

            @Override
            public void error(String message) {
                recording.error(message);
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
                recording.devicesChanged(devices);
            }
        });

        c.handshakeCompleted(handshake(PEER, 1)); // the state event throws; the devices event still comes
        c.disconnect();

        awaitCalls(List.of("devices:1", "CONNECTED>DISCONNECTED"));
        await().atMost(WAIT).until(() -> c.detailedMetrics().callbacksDispatched() == 3);
        assertEquals(1, c.detailedMetrics().listenerErrors());
    }

    @Test
    void shouldDeliverEventsInOrder() throws Exception {
        startStrategy(Map.of("handshake_threads", 1));
        MutexConnectionEngine c = connection(ControllableHandshaker.answering(handshake(PEER, 1)));
        c.handshakeCompleted(handshake(PEER, 1)); // the peer is known, so the marker below is rejected
        int threads = 4;
        int ops = 500;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int i = 0; i < ops; i++) {
                    switch (rnd.nextInt(5)) {
                        case 0 -> c.connect();
                        case 1 -> c.disconnect();
                        case 2 -> c.handshakeCompleted(handshake(PEER, 1 + rnd.nextInt(3)));
                        case 3 -> c.goodbyeReceived();
                        default -> c.checkHeartbeat();
                    }
                }
            }, "test-order-" + t);
            workers.add(w);
            w.start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join(TimeUnit.SECONDS.toMillis(30));
        }
        drainHandshakes();
        c.handshakeCompleted(handshake(OTHER, 0)); // a unique marker: rejected, error callback
        String marker = "error:handshake from node " + OTHER + " rejected: this connection belongs to node " + PEER;
        await().atMost(WAIT).until(() -> listener.whats().contains(marker));

        ConnectionState expectedFrom = DISCONNECTED;
        List<String> states = listener.states();
        for (String s : states) {
            String[] parts = s.split(">");
            assertEquals(expectedFrom, ConnectionState.valueOf(parts[0]), "event out of order: " + s);
            expectedFrom = ConnectionState.valueOf(parts[1]);
        }
        assertEquals(c.getState(), expectedFrom, "the last event is the current state");
        assertTrue(states.size() > 10, "enough transitions to mean something: " + states.size());
        assertTrue(listener.calls().stream().allMatch(call -> call.thread().equals("midimesh-mutex-notify")));
    }

    // ---- concurrency (workplan A.5) ------------------------------------------------------------------------------

    @Test
    void shouldAnswerConcurrentQueriesDuringHandshake() throws Exception {
        AtomicInteger round = new AtomicInteger();
        MutexConnectionEngine c = connection(
                ControllableHandshaker.answering(() -> handshake(PEER, 1 + round.incrementAndGet() % 8)));
        int readers = 50;
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        CountDownLatch readersStopped = new CountDownLatch(readers);
        for (int r = 0; r < readers; r++) {
            Thread t = new Thread(() -> {
                try {
                    while (!done.get()) {
                        ConnectionState s = c.getState();
                        Optional<NodeInfo> node = c.getRemoteNode();
                        List<DeviceInfo> devices = c.getRemoteDevices();
                        long hb = c.getTimeSinceLastHeartbeat();
                        if (s == null) {
                            problems.add("null state");
                        }
                        if (node.isPresent() && !node.get().id().equals(PEER)) {
                            problems.add("wrong node " + node.get());
                        }
                        String d = checkWhole(devices);
                        if (d != null) {
                            problems.add(d);
                        }
                        if (hb < 0) {
                            problems.add("negative heartbeat age " + hb);
                        }
                        reads.addAndGet(4);
                    }
                } catch (Throwable e) {
                    problems.add(e.toString());
                } finally {
                    readersStopped.countDown();
                }
            }, "test-reader-" + r);
            t.setDaemon(true);
            t.start();
        }
        try {
            for (int i = 0; i < 200; i++) {
                c.connect();
                if (i % 2 == 0) {
                    await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                            .until(() -> c.getState() == CONNECTED);
                }
                c.disconnect();
            }
        } finally {
            done.set(true);
        }
        assertTrue(readersStopped.await(30, TimeUnit.SECONDS), "readers stopped");

        assertEquals(List.of(), new ArrayList<>(problems));
        MutexConnectionMetrics m = c.detailedMetrics();
        assertTrue(m.totalQueries() >= reads.get(), m.toString());
        assertTrue(m.contentionPercent() >= 0 && m.contentionPercent() <= 100, m.toString());
        assertEquals(DISCONNECTED, c.getState());
    }

    @Test
    void shouldNeverShowAHalfWrittenDeviceList() throws Exception {
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 8; r++) {
            Thread t = new Thread(() -> {
                while (!done.get()) {
                    String p = checkWhole(c.getRemoteDevices());
                    if (p != null) {
                        problems.add(p);
                    }
                    reads.incrementAndGet();
                }
            }, "test-device-reader-" + r);
            t.setDaemon(true);
            readers.add(t);
            t.start();
        }
        try {
            for (int i = 0; i < 5000; i++) {
                c.handshakeCompleted(handshake(PEER, 1 + i % 20));
            }
        } finally {
            done.set(true);
        }
        for (Thread t : readers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }

        assertEquals(List.of(), new ArrayList<>(problems));
        assertTrue(reads.get() > 0);
        List<DeviceInfo> last = c.getRemoteDevices();
        assertNull(checkWhole(last));
        assertThrows(UnsupportedOperationException.class, () -> last.add(last.get(0)));
    }

    // ---- lock timeout fallback (workplan A.3) ---------------------------------------------------------------------

    @Test
    void shouldAnswerQueriesFromTheSnapshotWhenTheLockTimesOut() throws Exception {
        startStrategy(Map.of("lock_timeout_ms", 20L));
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));

        try (LockHolder holder = new LockHolder(c)) {
            assertEquals(CONNECTED, c.getState());
            assertEquals(Optional.of(PEER), c.getRemoteId());
            assertEquals(1, c.getRemoteDevices().size());
            assertTrue(c.send(numberedFrame(1)), "send decides from the snapshot");
        }

        MutexConnectionMetrics m = c.detailedMetrics();
        assertEquals(3, m.lockTimeouts(), m.toString());
        assertEquals(2, m.mutexContentions(), m.toString());
        assertEquals(3, c.metrics().stalls(), "every timed-out wait is a stall");
        assertEquals(1, link.dataCount());
    }

    @Test
    void shouldRunCommandsLaterAndInOrderWhenTheLockTimesOut() throws Exception {
        startStrategy(Map.of("lock_timeout_ms", 50L));
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));

        try (LockHolder holder = new LockHolder(c)) {
            c.disconnect(); // times out: deferred to the notify thread
            c.handshakeCompleted(handshake(PEER, 2)); // must queue behind it
            assertEquals(CONNECTED, c.getState());
        }

        awaitCalls(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED",
                "DISCONNECTED>CONNECTED", "devices:2"));
        assertEquals(CONNECTED, c.getState());
        MutexConnectionMetrics m = c.detailedMetrics();
        assertEquals(2, m.deferredCommands(), m.toString());
        assertEquals(0, m.droppedCommands(), m.toString());
    }

    @Test
    void shouldDropACommandWithAnErrorWhenTheLockStaysBusy() throws Exception {
        startStrategy(Map.of("lock_timeout_ms", 5L));
        MutexConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 0));
        awaitCalls(List.of("DISCONNECTED>CONNECTED"));

        try (LockHolder holder = new LockHolder(c)) {
            c.disconnect();
            await().atMost(WAIT).until(() -> listener.errors().size() == 1);
        }

        assertEquals(List.of("disconnect dropped: the connection lock stayed busy"), listener.errors());
        assertEquals(CONNECTED, c.getState());
        assertEquals(1, c.detailedMetrics().droppedCommands());
        assertEquals(MutexConnectionEngine.MAX_COMMAND_ATTEMPTS + 1, c.metrics().stalls(),
                "the first wait and every retry timed out; the drop itself is not counted again");
        c.disconnect(); // works again once the lock is free
        assertEquals(DISCONNECTED, c.getState());
    }
}
