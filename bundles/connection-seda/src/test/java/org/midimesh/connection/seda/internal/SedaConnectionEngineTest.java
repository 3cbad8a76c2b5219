package org.midimesh.connection.seda.internal;

import static org.midimesh.connection.seda.internal.Wait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.connection.ConnectionState.FAILED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class SedaConnectionEngineTest {

    private static final Duration LONG_TIMEOUT = Duration.ofHours(1);
    private static final NodeId PEER = NodeId.random();
    private static final NodeId OTHER = NodeId.random();

    private final RecordingPeerLink link = new RecordingPeerLink();
    private final RecordingConnectionListener listener = new RecordingConnectionListener();
    private final List<SedaConnectionStrategy> strategies = new ArrayList<>();
    private SedaConnectionStrategy strategy;

    @AfterEach
    void stopStrategies() {
        link.openGate();
        for (SedaConnectionStrategy s : strategies) {
            s.deactivate();
        }
    }

    private SedaConnectionStrategy startStrategy(Map<String, Object> config) {
        SedaConnectionStrategy s = new SedaConnectionStrategy(Configs.of(SedaConnectionStrategy.Config.class, config));
        strategies.add(s);
        if (strategy == null) {
            strategy = s;
        }
        return s;
    }

    private SedaConnectionEngine connection(Handshaker handshaker) {
        return connection(handshaker, LONG_TIMEOUT);
    }

    private SedaConnectionEngine connection(Handshaker handshaker, Duration heartbeatTimeout) {
        return connection(handshaker, heartbeatTimeout, listener.asEngineEvents());
    }

    private SedaConnectionEngine connection(Handshaker handshaker, Duration heartbeatTimeout, EngineEvents events) {
        if (strategy == null) {
            startStrategy(Map.of());
        }
        return (SedaConnectionEngine) strategy.create(context(handshaker, heartbeatTimeout), events);
    }

    private ConnectionContext context(Handshaker handshaker, Duration heartbeatTimeout) {
        return FakePeers.context(handshaker, link, heartbeatTimeout);
    }

    /**
     * A connected connection whose mailbox owner is now blocked inside the link, sending frame 1: a sender thread of
     * the test's ({@link HeldSend}) on the hot path, a worker with {@code send.on.caller} off.
     */
    private SedaConnectionEngine connectedAndBlocked(Map<String, Object> config) throws Exception {
        if (strategy == null) {
            startStrategy(config);
        }
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        HeldSend.hold(c, link, numberedFrame(1));
        return c;
    }

    private static void awaitState(ConnectionEngine c, ConnectionState s) {
        await().until(() -> c.getState() == s);
    }

    private void awaitCalls(List<String> expected) {
        await().until(() -> listener.whats().size() >= expected.size());
        assertEquals(expected, listener.whats());
    }

    /** Waits until every command queued so far has run (the worker answers after them). */
    private static WorkerSnapshot sync(SedaConnectionEngine c) throws Exception {
        return c.inspectAsync().get(20, TimeUnit.SECONDS);
    }

    /**
     * Waits until the engine's mailbox is idle: everything queued has run and the worker gave the token back (it
     * answers {@link #sync} before it does), so the next send takes the hot path.
     */
    private static void idle(SedaConnectionEngine c) throws Exception {
        sync(c);
        await().until(() -> c.mailbox().isIdle());
    }

    // ---- states --------------------------------------------------------------------------------------------------

    @Test
    void shouldStartDisconnectedWithNothingKnown() {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        assertEquals("seda", c.metrics().strategy());
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
        assertEquals(Optional.empty(), c.getRemoteId());
        assertTrue(c.getRemoteDevices().isEmpty());
        assertEquals(Long.MAX_VALUE, c.getTimeSinceLastHeartbeat());
        assertFalse(c.send(numberedFrame(1)), "not connected");
    }

    @Test
    void shouldConnectWithTheBlockingHandshakeOnAHandshakeThreadNeverOnAWorker() {
        ControllableHandshaker h = ControllableHandshaker.answering(handshake(PEER, 2));
        SedaConnectionEngine c = connection(h);

        c.connect();

        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:2"));
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(FakePeers.devices(2), c.getRemoteDevices());
        assertTrue(c.getTimeSinceLastHeartbeat() < Long.MAX_VALUE);
        assertEquals(1, h.threads().size());
        assertTrue(h.threads().get(0).startsWith("midimesh-seda-handshake-"), h.threads().get(0));
    }

    @Test
    void shouldFailWithAnErrorWhenTheHandshakeFailsAndConnectAgainFromFailed() throws Exception {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        SedaConnectionEngine c = connection(h);
        c.connect();
        h.fail("connection refused");
        awaitState(c, FAILED);
        c.connect();
        h.respond(handshake(PEER, 0));
        awaitState(c, CONNECTED);

        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>FAILED",
                "error:handshake with 127.0.0.1:7474 failed: connection refused", "FAILED>CONNECTING",
                "CONNECTING>CONNECTED"));
        assertEquals(1, c.metrics().errors());
    }

    @Test
    void shouldIgnoreConnectWhileConnectingOrConnected() throws Exception {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        SedaConnectionEngine c = connection(h);
        c.connect();
        c.connect();
        h.respond(handshake(PEER, 0));
        awaitState(c, CONNECTED);
        c.connect();
        sync(c);

        assertEquals(1, h.calls());
        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"));
    }

    @Test
    void shouldLetADisconnectDuringAnInFlightHandshakeWin() throws Exception {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        SedaConnectionEngine c = connection(h);
        c.connect();
        await().until(() -> h.calls() == 1);
        c.disconnect();
        h.respond(handshake(PEER, 1)); // too late
        await().until(() -> !sync(c).handshakeInFlight());

        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>DISCONNECTED"));
    }

    @Test
    void shouldRejectAHandshakeFromAnotherNode() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        c.handshakeCompleted(handshake(OTHER, 3));
        sync(c);

        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(1, c.getRemoteDevices().size());
        awaitCalls(List.of("DISCONNECTED>CONNECTED", "devices:1",
                "error:handshake from node " + OTHER + " rejected: this connection belongs to node " + PEER));
    }

    @Test
    void shouldDisconnectOnGoodbyeAndTreatTheSameStateTwiceAsANoOp() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 0));
        c.goodbyeReceived();
        c.goodbyeReceived();
        c.disconnect();
        sync(c);

        awaitCalls(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"));
    }

    @Test
    void shouldRejectNullArguments() {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        assertThrows(NullPointerException.class, () -> c.handshakeCompleted(null));
        assertThrows(NullPointerException.class, () -> c.send(null));
    }

    // ---- heartbeat (B.3) -----------------------------------------------------------------------------------------

    @Test
    void shouldFailASilentConnectedPeerWhenTheMonitorPostsACheck() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted(), Duration.ZERO);
        c.handshakeCompleted(handshake(PEER, 0));
        c.checkHeartbeat();
        awaitState(c, FAILED);

        await().until(() -> listener.errors().size() == 1);
        assertTrue(listener.errors().get(0).startsWith("heartbeat timeout: no heartbeat for "),
                listener.errors().get(0));
    }

    @Test
    void shouldKeepALivePeerConnectedAndRefreshTheHeartbeatTime() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.checkHeartbeat(); // not connected: nothing happens
        c.handshakeCompleted(handshake(PEER, 0));
        long before = sync(c).lastHeartbeatNanos();
        c.notifyHeartbeat();
        c.checkHeartbeat();
        WorkerSnapshot s = sync(c);

        assertEquals(CONNECTED, s.state());
        assertTrue(s.lastHeartbeatNanos() - before >= 0);
        assertTrue(c.getTimeSinceLastHeartbeat() < LONG_TIMEOUT.toMillis());
    }

    @Test
    void shouldFoldRepeatedChecksIntoTheOneStillQueued() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of());
        int before = c.mailbox().depth();
        for (int i = 0; i < 100; i++) {
            c.checkHeartbeat();
        }
        assertEquals(before + 1, c.mailbox().depth());
        link.openGate();
        sync(c);
        c.checkHeartbeat();
        sync(c);
        assertEquals(CONNECTED, c.getState());
    }

    // ---- the queue -----------------------------------------------------------------------------------------------

    @Test
    void shouldKeepTheMessagesOfOneConnectionInOrder() throws Exception {
        startStrategy(Map.of("send_on_caller", false)); // every send through the queue, on the stage
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        for (int i = 1; i <= 5000; i++) {
            while (!c.send(numberedFrame(i))) {
                Thread.onSpinWait(); // a full queue refuses; retry until the worker caught up
            }
        }
        await().until(() -> link.dataCount() == 5000);
        List<Integer> seqs = link.frameNumbers();
        for (int i = 0; i < seqs.size(); i++) {
            assertEquals(i + 1, seqs.get(i));
        }
        assertTrue(link.sent().stream().allMatch(s -> s.thread().matches("midimesh-seda-\\d+")));
    }

    @Test
    void shouldSendOnTheCallersThreadWhenTheConnectionIsIdle() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        idle(c); // nothing queued, nothing running, the token free
        long before = c.metrics().commandsProcessed();

        assertTrue(c.send(numberedFrame(1)));

        assertEquals(List.of(1), link.frameNumbers(), "sent before send returned");
        assertEquals(Thread.currentThread().getName(), link.sent().get(0).thread());
        assertEquals(before + 1, c.metrics().commandsProcessed(), "run as a command, as the worker would");
        assertEquals(0, c.mailbox().depth());
        assertNull(c.mailbox().owner(), "the caller gave the mailbox back");
    }

    @Test
    void shouldQueueBehindABusyConnectionAndLeaveTheBacklogToTheWorkers() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        CompletableFuture<Boolean> first = HeldSend.hold(c, link, numberedFrame(1));
        for (int i = 2; i <= 5; i++) {
            assertTrue(c.send(numberedFrame(i)), "queued at once, although the owner is stuck: frame " + i);
        }
        assertEquals(4, c.mailbox().depth());
        link.openGate();
        assertTrue(first.get(20, TimeUnit.SECONDS));
        await().until(() -> link.dataCount() == 5);

        assertEquals(List.of(1, 2, 3, 4, 5), link.frameNumbers());
        assertEquals(HeldSend.THREAD, link.sent().get(0).thread());
        assertTrue(link.sent().subList(1, 5).stream().allMatch(s -> s.thread().matches("midimesh-seda-\\d+")),
                "the held sender ran its own frame only; the stage ran the backlog: " + link.sent());
    }

    /**
     * Four senders race on one connection: each one's frames arrive in its order, and never two owners at once. Both
     * paths are taken for certain: the first send finds the connection idle and runs on its sender; then sender 0's
     * 100th frame is held inside the link (by whichever thread runs it) until sender 1 has sent 10 frames, which must
     * queue and so go out on the stage.
     */
    @Test
    void shouldKeepEachSendersOrderWithCallersAndWorkersSharingTheConnection() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        PeerLink holding = new PeerLink() {
            @Override
            public void sendData(NodeInfo to, DataFrame frame) {
                link.sendData(to, frame);
                if (FakePeers.numberOf(frame) == 100) {
                    inside.countDown();
                    try {
                        assertTrue(release.await(20, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void sendHeartbeat(NodeInfo to) {
                link.sendHeartbeat(to);
            }

            @Override
            public void sendGoodbye(NodeInfo to) {
                link.sendGoodbye(to);
            }
        };
        startStrategy(Map.of());
        SedaConnectionEngine c = (SedaConnectionEngine) strategy.create(FakePeers.context(
                ControllableHandshaker.scripted(), holding, LONG_TIMEOUT), listener.asEngineEvents());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        idle(c);
        int senders = 4;
        int frames = 5000;
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < senders; t++) {
                int sender = t;
                int base = t * 1_000_000;
                done.add(pool.submit(() -> {
                    start.await();
                    if (sender == 1) {
                        assertTrue(inside.await(20, TimeUnit.SECONDS));
                    }
                    for (int i = 1; i <= frames; i++) {
                        while (!c.send(numberedFrame(base + i))) {
                            Thread.onSpinWait(); // a full queue refuses; retry until the worker caught up
                        }
                        if (sender == 1 && i == 10) {
                            release.countDown();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        await().until(() -> link.dataCount() == senders * frames);

        int[] next = new int[senders];
        for (RecordingPeerLink.Sent s : link.sent()) {
            int n = FakePeers.numberOf(s.frame());
            assertEquals(++next[n / 1_000_000], n % 1_000_000, "sender " + n / 1_000_000 + " out of order");
        }
        assertTrue(link.sent().get(0).thread().startsWith("pool-"), "the first send ran on its sender: "
                + link.sent().get(0).thread());
        RecordingPeerLink.Sent firstOfSender1 = link.sent().stream()
                .filter(s -> FakePeers.numberOf(s.frame()) == 1_000_001).findFirst().orElseThrow();
        assertTrue(firstOfSender1.thread().matches("midimesh-seda-\\d+"), "queued behind the held frame, sent by "
                + "the stage: " + firstOfSender1.thread());
        // A second owner would have failed a sender (the mailbox's check) or a command (the engine's assertion).
        assertEquals(0, c.commandFailures(), "never two owners at once");
    }

    @Test
    void shouldQueueEverySendWhenSendOnCallerIsOff() throws Exception {
        startStrategy(Map.of("send_on_caller", false));
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        sync(c);
        link.closeGate();

        assertTrue(c.send(numberedFrame(1)), "returns at once although the link holds the worker");
        assertTrue(link.awaitBlocked(10, TimeUnit.SECONDS));
        link.openGate();
        await().until(() -> link.dataCount() == 1);
        assertTrue(link.sent().get(0).thread().matches("midimesh-seda-\\d+"), link.sent().get(0).thread());
    }

    @Test
    void shouldApplySendOnCallerLive() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        sync(c);
        strategy.modified(Configs.of(SedaConnectionStrategy.Config.class, Map.of("send_on_caller", false)));
        assertTrue(c.send(numberedFrame(1)));
        await().until(() -> link.dataCount() == 1);
        strategy.modified(Configs.of(SedaConnectionStrategy.Config.class, Map.of()));
        idle(c);
        assertTrue(c.send(numberedFrame(2)));

        assertTrue(link.sent().get(0).thread().matches("midimesh-seda-\\d+"), link.sent().get(0).thread());
        assertEquals(Thread.currentThread().getName(), link.sent().get(1).thread());
    }

    @Test
    void shouldRefuseMidiWhenTheQueueIsFullButKeepControlCommands() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of("queue_capacity", 4));
        for (int i = 2; i <= 5; i++) {
            assertTrue(c.send(numberedFrame(i)), "frame " + i);
        }
        assertFalse(c.send(numberedFrame(6)), "the queue is full: refused, never blocking");
        assertFalse(c.send(numberedFrame(7)), "still full");
        assertEquals(2, c.metrics().droppedMessages());
        assertEquals(1, c.metrics().stalls(), "one full-queue episode, however many frames it refuses");
        assertEquals(4, c.metrics().queueDepth());
        c.disconnect(); // a control command still gets in, from the reserve
        c.notifyHeartbeat();
        assertEquals(6, c.metrics().queueDepth());

        link.openGate();
        awaitState(c, DISCONNECTED);
        assertEquals(List.of(1, 2, 3, 4, 5), link.frameNumbers());
    }

    @Test
    void shouldNeverLoseAControlCommandAndCoalesceHeartbeats() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of("queue_capacity", 4));
        for (int i = 0; i < 100; i++) {
            c.notifyHeartbeat();
            c.checkHeartbeat();
        }
        assertEquals(2, c.metrics().queueDepth(), "one heartbeat notification and one check, whatever the rate");
        for (int i = 0; i < 50; i++) { // far beyond capacity and reserve: none is refused
            c.disconnect();
            c.handshakeCompleted(handshake(PEER, 1 + i % 3));
        }
        c.goodbyeReceived();
        assertEquals(2 + 101, c.metrics().queueDepth());
        assertEquals(1, c.metrics().stalls(), "one backlog beyond twice the capacity, counted when it starts");

        link.openGate();
        await().until(() -> c.metrics().queueDepth() == 0); // inspect itself may not use more than the reserve
        WorkerSnapshot s = sync(c);
        assertEquals(DISCONNECTED, s.state(), "the last command won");
        assertEquals(FakePeers.devices(1 + 49 % 3), s.devices());
        assertTrue(s.lastHeartbeatNanos() != SedaConnectionEngine.NEVER);
        await().until(() -> listener.states().size() == 1 + 100 + 1);
        assertEquals("CONNECTED>DISCONNECTED", listener.states().get(101));
    }

    @Test
    void shouldDropAQueuedFrameWhenAnEarlierCommandEndedTheConnection() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of());
        c.goodbyeReceived();
        assertTrue(c.send(numberedFrame(2)), "still CONNECTED when queued");
        link.openGate();
        sync(c);

        assertEquals(List.of(1), link.frameNumbers());
        assertEquals(1, c.metrics().droppedMessages());
    }

    @Test
    void shouldJudgeAFrameQueuedBehindAStateChangeInItsTurn() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of());
        c.disconnect();
        assertTrue(c.send(numberedFrame(2)), "a state change is queued before it: judged in its turn");
        c.handshakeCompleted(handshake(PEER, 1));
        assertTrue(c.send(numberedFrame(3)), "as the order of commands says, this one goes out");
        link.openGate();
        sync(c);

        assertEquals(List.of(1, 3), link.frameNumbers());
        assertEquals(1, c.metrics().droppedMessages(), "frame 2 met DISCONNECTED in its turn");
        c.disconnect();
        sync(c);
        assertFalse(c.send(numberedFrame(4)), "nothing queued could connect it: refused at once");
    }

    // ---- queries through the worker ------------------------------------------------------------------------------

    @Test
    void shouldTimeOutAWorkerQueryAndDiscardTheLateAnswer() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of("query_timeout_ms", 50L));
        CompletableFuture<WorkerSnapshot> pending = c.inspectAsync();

        assertThrows(TimeoutException.class, c::inspect);
        assertFalse(pending.isDone());
        assertEquals(1, c.metrics().stalls(), "the worker did not answer within its bound");
        link.openGate();

        WorkerSnapshot s = pending.get(20, TimeUnit.SECONDS);
        assertEquals(CONNECTED, s.state());
        assertEquals(FakePeers.devices(1), s.devices());
        assertNotNull(c.inspectAsync().get(20, TimeUnit.SECONDS), "answers again once the worker is free");
    }

    @Test
    void shouldAnswerSnapshotQueriesWhileTheWorkerIsBusy() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of());
        // The worker is stuck in the link; none of these waits on it.
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(1, c.getRemoteDevices().size());
        assertTrue(c.getTimeSinceLastHeartbeat() < Long.MAX_VALUE);
        assertEquals(0, c.metrics().mutexContentions());
    }

    // ---- callbacks -----------------------------------------------------------------------------------------------

    @Test
    void shouldCallListenersOnTheNotificationThreadNeverOnAWorker() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.answering(handshake(PEER, 1)));
        c.connect();
        awaitCalls(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:1"));
        for (RecordingConnectionListener.Call call : listener.calls()) {
            assertEquals("midimesh-seda-notify", call.thread());
        }
        await().until(() -> c.metrics().callbacksDispatched() == 3); // one per event delivered
    }

    /** Regression for issue 3: the original's callback ran on the worker and stalled it 1 s on every connect. */
    @Test
    void shouldNotStallWhenAnEventReceiverQueriesItsOwnEngine() throws Exception {
        startStrategy(Map.of("query_timeout_ms", 600_000L)); // a stall would hang (and fail by @Timeout), not time out
        AtomicReference<Object> seen = new AtomicReference<>();
        AtomicReference<SedaConnectionEngine> self = new AtomicReference<>();
        EngineEvents events = new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                if (to != CONNECTED) {
                    return;
                }
                SedaConnectionEngine e = self.get();
                try {
                    WorkerSnapshot s = e.inspect(); // goes through the worker: it is free
                    seen.set(List.of(e.getRemoteNode().orElseThrow().id(), e.getRemoteDevices().size(), s.state(),
                            s.remoteNode().map(NodeInfo::id).orElseThrow()));
                } catch (Exception x) {
                    seen.set(x);
                }
                e.notifyHeartbeat(); // and commands it
            }

            @Override
            public void error(String message) {
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
            }
        };
        SedaConnectionEngine c = connection(ControllableHandshaker.answering(handshake(PEER, 2)), LONG_TIMEOUT, events);
        self.set(c);
        c.connect();

        await().until(() -> seen.get() != null);
        assertEquals(List.of(PEER, 2, CONNECTED, PEER), seen.get());
    }

    @Test
    void shouldCountAndSurviveAnEventReceiverThatThrows() throws Exception {
        EngineEvents throwing = new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                listener.asEngineEvents().stateChanged(from, to);
                throw new IllegalStateException("bad receiver");
            }

            @Override
            public void error(String message) {
                listener.asEngineEvents().error(message);
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
                listener.asEngineEvents().devicesChanged(devices);
                throw new IllegalStateException("bad receiver");
            }
        };
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted(), LONG_TIMEOUT, throwing);
        c.handshakeCompleted(handshake(PEER, 1));
        c.disconnect();

        awaitCalls(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED"));
        await().until(() -> c.listenerErrors() == 3);
        assertEquals(3, c.metrics().callbacksDispatched(), "one per event delivered, thrown or not");
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(0, c.commandFailures(), "the worker never saw the receiver's failure");
    }

    // ---- close and shutdown --------------------------------------------------------------------------------------

    @Test
    void shouldCloseIdempotentlyAndRejectLaterCommandsVisibly() throws Exception {
        ControllableHandshaker h = ControllableHandshaker.answering(handshake(PEER, 1));
        SedaConnectionEngine c = connection(h);
        c.handshakeCompleted(handshake(PEER, 1));
        assertEquals(1, strategy.openConnections());

        c.close();
        c.close();
        c.closedFuture().get(20, TimeUnit.SECONDS);
        assertEquals(0, strategy.openConnections());

        c.connect();
        c.checkHeartbeat();
        assertFalse(c.send(numberedFrame(1)));
        assertEquals(DISCONNECTED, c.getState());
        await().until(() -> c.rejectedCommands() == 2); // rejected in order behind close, maybe on the worker
        assertEquals(0, h.calls());
        assertEquals(2, c.rejectedCommands());
        assertEquals(2, c.metrics().errors());
        assertEquals(1, c.metrics().droppedMessages());
        ExecutionException e = assertThrows(ExecutionException.class, () -> c.inspectAsync().get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalStateException);
        awaitCalls(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED",
                "error:connect rejected: the connection is closed",
                "error:checkHeartbeat rejected: the connection is closed"));
        assertTrue(link.sent().isEmpty());
    }

    @Test
    void shouldRunWhatWasQueuedBeforeCloseThenRejectTheRest() throws Exception {
        SedaConnectionEngine c = connectedAndBlocked(Map.of());
        assertTrue(c.send(numberedFrame(2)));
        c.close();
        assertFalse(c.send(numberedFrame(3)), "closed: refused at once");
        link.openGate();
        c.closedFuture().get(20, TimeUnit.SECONDS);

        assertEquals(List.of(1, 2), link.frameNumbers());
        assertEquals(DISCONNECTED, c.getState());
    }

    @Test
    void shouldShutDownWithinItsTimeoutWhileAWorkerIsStuck() throws Exception {
        // send.on.caller off: a worker, not the test's sender, is the one stuck in the link
        SedaConnectionEngine c = connectedAndBlocked(Map.of("shutdown_timeout_ms", 200L, "send_on_caller", false));
        for (int i = 2; i < 100; i++) {
            c.send(numberedFrame(i));
        }
        SedaConnectionEngine idle = connection(ControllableHandshaker.scripted());

        strategy.deactivate(); // the stuck worker is interrupted after 200 ms; this returns

        assertTrue(strategy.workers().isShutdown());
        await().until(() -> strategy.workers().isTerminated() && strategy.notifier().isTerminated());
        assertTrue(idle.closedFuture().isDone(), "the idle connection closed in time");
        assertFalse(c.send(numberedFrame(200)), "commands after shutdown are refused");
        c.connect();
        await().until(() -> c.rejectedCommands() == 1);
        assertThrows(IllegalStateException.class, () -> strategy.create(context(ControllableHandshaker.scripted(),
                LONG_TIMEOUT), listener.asEngineEvents()));
    }

    // ---- scale ---------------------------------------------------------------------------------------------------

    @Test
    void shouldServeAThousandConnectionsOnTwoWorkerThreadsInOrder() throws Exception {
        startStrategy(Map.of("worker_threads", 2, "send_on_caller", false)); // the stage's scheduling is under test
        int n = 1000;
        int frames = 20;
        List<SedaConnectionEngine> all = new ArrayList<>();
        Map<NodeId, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
            NodeId id = NodeId.random();
            index.put(id, i);
            c.handshakeCompleted(handshake(id, 1));
            all.add(c);
        }
        await().until(() -> all.stream().allMatch(c -> c.getState() == CONNECTED));
        for (int f = 1; f <= frames; f++) {
            for (SedaConnectionEngine c : all) {
                assertTrue(c.send(numberedFrame(f)));
            }
        }
        await().until(() -> link.dataCount() == n * frames);

        int[] next = new int[n];
        java.util.Set<String> threads = new java.util.HashSet<>();
        for (RecordingPeerLink.Sent s : link.sent()) {
            int i = index.get(s.peer().id());
            assertEquals(++next[i], FakePeers.numberOf(s.frame()), "connection " + i + " out of order");
            threads.add(s.thread());
        }
        assertTrue(threads.size() <= 2 && threads.stream().allMatch(t -> t.matches("midimesh-seda-\\d+")),
                threads::toString);
        // No thread per connection: only the two workers (threads of earlier tests' strategies may still be ending).
        await().until(() -> Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().matches("midimesh-seda-\\d+")).count() == 2);
        ConnectionMetrics m = strategy.metrics();
        assertEquals(0, m.mutexContentions());
        assertTrue(m.commandsProcessed() >= (long) n * (frames + 1), m.toString()); // handshake and frames
    }

    // ---- metrics -------------------------------------------------------------------------------------------------

    @Test
    void shouldCountQueriesAndTimeASampleOfThem() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        sync(c);
        for (int i = 0; i < 640; i++) {
            c.getState();
            c.getRemoteDevices();
        }
        ConnectionMetrics m = c.metrics();

        assertEquals(1280 + 1, m.totalQueries(), "every query counted, inspect included");
        assertEquals(0, m.mutexContentions());
        assertEquals(0.0, m.contentionPercent());
        assertTrue(m.queryLatency().count() >= 1 && m.queryLatency().count() <= 1280 / 64 + 1, m.toString());
        assertTrue(m.commandsProcessed() >= 2, m.toString()); // handshake, inspect
        assertEquals("seda", m.strategy());
        assertEquals(0, m.queueDepth());
        ConnectionMetrics total = strategy.metrics();
        assertEquals(m.totalQueries(), total.totalQueries());
        assertEquals(m.queryLatency().count(), total.queryLatency().count());
    }

    @Test
    void shouldFailACallerThatIsNotTheOwnerOnTheOwnerAssertion() {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        AssertionError e = assertThrows(AssertionError.class, () -> c.mailbox().hold());
        assertTrue(e.getMessage().startsWith(SerialExecutor.SINGLE_OWNER_RULE), e.getMessage());
    }

    @Test
    void shouldNeverShowAHalfWrittenDeviceList() throws Exception {
        SedaConnectionEngine c = connection(ControllableHandshaker.scripted());
        CopyOnWriteArrayList<String> problems = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted() && problems.isEmpty()) {
                String p = FakePeers.checkWhole(c.getRemoteDevices());
                if (p != null) {
                    problems.add(p);
                }
                if (c.getState() == CONNECTED && c.getRemoteNode().isEmpty()) {
                    problems.add("CONNECTED without a node");
                }
            }
        }, "test-reader");
        reader.start();
        for (int k = 0; k < 2000; k++) {
            c.handshakeCompleted(handshake(PEER, k % 7));
        }
        sync(c);
        reader.interrupt();
        reader.join(10_000);
        assertTrue(problems.isEmpty(), problems::toString);
        assertEquals(1999 % 7, c.getRemoteDevices().size());
    }
}
