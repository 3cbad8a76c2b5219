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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;
import org.midimesh.api.transport.DataFrame;

/**
 * The mutex side of a hot swap (the engine SPI's handover), beyond what the shared contract suite can reach; and the
 * sampled query latency.
 */
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

    private MutexConnectionEngine engine(Handshaker h, EngineEvents events) {
        return (MutexConnectionEngine) from.create(context(h), events);
    }

    private MutexConnectionEngine engine(Handshaker h) {
        return engine(h, listener.asEngineEvents());
    }

    private MutexConnectionEngine connected(int devices) {
        MutexConnectionEngine c = engine(ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, devices));
        int events = devices > 0 ? 2 : 1;
        await().atMost(WAIT).until(() -> c.getState() == CONNECTED && listener.size() >= events);
        return c;
    }

    /** Returns once every handshake task queued so far in {@code s} has finished (needs handshake_threads = 1). */
    private static void drainHandshakes(MutexConnectionStrategy s) throws Exception {
        s.connectExecutor().submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    /** Blocks the first stateChanged to {@code blockOn} until released, recording every event into the listener. */
    private final class BlockingEvents implements EngineEvents {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final ConnectionState blockOn;
        private final EngineEvents recording = listener.asEngineEvents();

        BlockingEvents(ConnectionState blockOn) {
            this.blockOn = blockOn;
        }

        @Override
        public void stateChanged(ConnectionState f, ConnectionState t) {
            if (t == blockOn && entered.getCount() > 0) {
                entered.countDown();
                try {
                    assertTrue(release.await(30, TimeUnit.SECONDS), "the test never released the events sink");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            recording.stateChanged(f, t);
        }

        @Override
        public void error(String message) {
            recording.error(message);
        }

        @Override
        public void devicesChanged(List<DeviceInfo> devices) {
            recording.devicesChanged(devices);
        }
    }

    // ---- beginHandover -------------------------------------------------------------------------------------------

    @Test
    void shouldCaptureTheWholeStateWithNoQueuedFrames() {
        start(Map.of());
        MutexConnectionEngine c = connected(2);
        assertTrue(c.send(numberedFrame(1)));
        await().atMost(WAIT).until(() -> c.getTimeSinceLastHeartbeat() >= 20);

        Handover h = c.beginHandover();

        assertEquals(CONNECTED, h.state());
        assertEquals(PEER, h.peer().orElseThrow().node().id());
        assertEquals(FakePeers.devices(2), h.peer().orElseThrow().devices());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - h.lastHeartbeatNanos()) >= 20);
        assertEquals(List.of(), h.queuedFrames(), "mutex sends synchronously");
        assertEquals(MutexConnectionEngine.Phase.HANDING_OVER, c.phase());
        assertEquals(1, link.dataCount());
    }

    @Test
    void shouldRefuseABeginHandoverFromAnEventAndStayUsable() {
        start(Map.of());
        AtomicReference<MutexConnectionEngine> self = new AtomicReference<>();
        CompletableFuture<Throwable> inEvent = new CompletableFuture<>();
        MutexConnectionEngine c = engine(ControllableHandshaker.scripted(), new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState f, ConnectionState t) {
                try {
                    self.get().beginHandover();
                    inEvent.complete(null);
                } catch (Throwable e) {
                    inEvent.complete(e);
                }
            }

            @Override
            public void error(String message) {
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
            }
        });
        self.set(c);

        c.handshakeCompleted(handshake(PEER, 1));

        Throwable thrown = inEvent.orTimeout(10, TimeUnit.SECONDS).join();
        assertTrue(thrown instanceof IllegalStateException, String.valueOf(thrown));
        assertEquals(MutexConnectionEngine.Phase.ACTIVE, c.phase());
        Handover h = c.beginHandover(); // still possible from another thread
        ConnectionEngine next = to.adopt(h, listener.asEngineEvents());
        c.completeHandover();
        assertEquals(CONNECTED, next.getState());
    }

    @Test
    void shouldRunDeferredCommandsAndDeliverTheirEventsBeforeCapturing() throws Exception {
        // Retries of up to 10 x 200 ms: the deferred commands outlive the time the test holds the lock.
        start(Map.of("lock_timeout_ms", 200L));
        MutexConnectionEngine c = connected(1);
        CompletableFuture<Handover> begun;
        AtomicReference<List<String>> eventsAtReturn = new AtomicReference<>();
        Thread beginner;
        try (LockHolder holder = new LockHolder(c)) {
            c.disconnect(); // times out: deferred to the notification thread
            c.handshakeCompleted(handshake(PEER, 2)); // queues behind it
            assertEquals(2, c.detailedMetrics().deferredCommands());
            begun = new CompletableFuture<>();
            beginner = new Thread(() -> {
                try {
                    Handover h = c.beginHandover();
                    eventsAtReturn.set(listener.whats());
                    begun.complete(h);
                } catch (Throwable e) {
                    begun.completeExceptionally(e);
                }
            }, "test-begin-handover");
            beginner.start();
            await().atMost(WAIT).until(() -> beginner.getState() == Thread.State.TIMED_WAITING);
        }
        Handover h = begun.get(10, TimeUnit.SECONDS);

        assertEquals(CONNECTED, h.state(), "the deferred commands ran before the capture");
        assertEquals(FakePeers.devices(2), h.peer().orElseThrow().devices());
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED",
                "DISCONNECTED>CONNECTED", "devices:2"), eventsAtReturn.get(),
                "every event raised before the capture was delivered before beginHandover returned");
        assertEquals(0, c.detailedMetrics().droppedCommands());
        ConnectionEngine next = to.adopt(h, listener.asEngineEvents());
        c.completeHandover();
        assertEquals(CONNECTED, next.getState());
        assertEquals(5, listener.size(), "no event for the move");
    }

    @Test
    void shouldWaitForPendingEventsBeforeReturning() throws Exception {
        start(Map.of());
        BlockingEvents events = new BlockingEvents(CONNECTED);
        MutexConnectionEngine c = engine(ControllableHandshaker.scripted(), events);
        c.handshakeCompleted(handshake(PEER, 2));
        c.disconnect();
        assertTrue(events.entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<Handover> begun = new CompletableFuture<>();
        AtomicReference<List<String>> eventsAtReturn = new AtomicReference<>();
        Thread beginner = new Thread(() -> {
            try {
                Handover h = c.beginHandover();
                eventsAtReturn.set(listener.whats());
                begun.complete(h);
            } catch (Throwable e) {
                begun.completeExceptionally(e);
            }
        }, "test-begin-handover");
        beginner.start();
        await().atMost(WAIT).until(() -> beginner.getState() == Thread.State.TIMED_WAITING);

        events.release.countDown();

        Handover h = begun.get(10, TimeUnit.SECONDS);
        assertEquals(DISCONNECTED, h.state());
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:2", "CONNECTED>DISCONNECTED"), eventsAtReturn.get());
    }

    @Test
    void shouldRefuseAndChangeNothingWhenDeferredCommandsOutlastTheHandoverTimeout() throws Exception {
        start(Map.of("lock_timeout_ms", 200L, "handover_timeout_ms", 50L));
        MutexConnectionEngine c = connected(1);
        try (LockHolder holder = new LockHolder(c)) {
            c.disconnect(); // deferred; its retries (up to 2 s) outlast the handover timeout
            IllegalStateException e = assertThrows(IllegalStateException.class, c::beginHandover);
            assertTrue(e.getMessage().contains("deferred"), e.getMessage());
            assertEquals(MutexConnectionEngine.Phase.ACTIVE, c.phase());
        }

        await().atMost(WAIT).until(() -> listener.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), listener.states());
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(1, c.detailedMetrics().handoverTimeouts());
        assertTrue(c.metrics().stalls() >= 2, "the command's lock timeout and the handover's: " + c.metrics());
        Handover h = c.beginHandover(); // a later attempt succeeds
        assertEquals(DISCONNECTED, h.state());
    }

    @Test
    void shouldRefuseAndChangeNothingWhenAnEventOutlastsTheHandoverTimeout() throws Exception {
        start(Map.of("handover_timeout_ms", 50L, "handshake_threads", 1));
        BlockingEvents events = new BlockingEvents(CONNECTING);
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = engine(h, events);
        c.connect();
        assertTrue(events.entered.await(10, TimeUnit.SECONDS));
        await().atMost(WAIT).until(() -> h.calls() == 1);

        assertThrows(IllegalStateException.class, c::beginHandover);

        assertEquals(MutexConnectionEngine.Phase.ACTIVE, c.phase());
        assertEquals(1, c.detailedMetrics().handoverTimeouts());
        events.release.countDown();
        h.respond(handshake(PEER, 0)); // the handshake in flight is still the current one
        await().atMost(WAIT).until(() -> c.getState() == CONNECTED);
        drainHandshakes(from);
        assertEquals(1, h.calls(), "nothing was abandoned or dialled again");
        await().atMost(WAIT).until(() -> listener.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), listener.states());
    }

    @Test
    void shouldGoOnAsBeforeWhenEventsRaisedJustBeforeTheCaptureOutlastTheTimeout() throws Exception {
        // The handshake result gets the lock just before beginHandover (both queue in the fair lock behind a holder),
        // so its events are raised after beginHandover's first wait and delivered too late.
        start(Map.of("lock_timeout_ms", 5_000L, "handover_timeout_ms", 300L, "handshake_threads", 1));
        BlockingEvents events = new BlockingEvents(CONNECTED);
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = engine(h, events);
        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1 && listener.size() == 1);
        CompletableFuture<Throwable> begun = new CompletableFuture<>();
        try (LockHolder holder = new LockHolder(c)) {
            h.respond(handshake(PEER, 1));
            await().atMost(WAIT).until(() -> c.lockForTest().getQueueLength() == 1); // the result waits
            Thread beginner = new Thread(() -> {
                try {
                    c.beginHandover();
                    begun.complete(null);
                } catch (Throwable e) {
                    begun.complete(e);
                }
            }, "test-begin-handover");
            beginner.start();
            await().atMost(WAIT).until(() -> c.lockForTest().getQueueLength() == 2); // behind it
        }

        Throwable thrown = begun.get(10, TimeUnit.SECONDS);
        assertTrue(thrown instanceof IllegalStateException, String.valueOf(thrown));
        assertTrue(thrown.getMessage().contains("events"), thrown.getMessage());
        assertEquals(MutexConnectionEngine.Phase.ACTIVE, c.phase());
        assertEquals(CONNECTED, c.getState());
        events.release.countDown();
        await().atMost(WAIT).until(() -> listener.size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:1"), listener.whats());
        drainHandshakes(from);
        assertEquals(1, h.calls(), "CONNECTED was captured: nothing to dial again");
        c.disconnect(); // ACTIVE again: commands run
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(DISCONNECTED, c.beginHandover().state());
    }

    @ParameterizedTest(name = "late handshake succeeds: {0}")
    @ValueSource(booleans = {true, false})
    void shouldIgnoreALateHandshakeResultAfterBegin(boolean lateSuccess) throws Exception {
        start(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = engine(h);
        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1 && listener.size() == 1);

        Handover ho = c.beginHandover();
        if (lateSuccess) {
            h.respond(handshake(PEER, 2));
        } else {
            h.fail("too late");
        }
        drainHandshakes(from); // the result ran on the handshake thread before this returns

        assertEquals(CONNECTING, ho.state());
        assertEquals(CONNECTING, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
        assertTrue(c.getRemoteDevices().isEmpty());
        assertEquals(Long.MAX_VALUE, c.getTimeSinceLastHeartbeat());
        assertEquals(0, c.metrics().errors(), "no error event");
        c.completeHandover();
        assertEquals(List.of("DISCONNECTED>CONNECTING"), listener.whats());
        assertEquals(1, c.metrics().callbacksDispatched());
    }

    // ---- commands during and after the handover -----------------------------------------------------------------

    private static void assertRefused(String phase, Executable command) {
        IllegalStateException e = assertThrows(IllegalStateException.class, command);
        assertTrue(e.getMessage().contains(phase), e.getMessage());
    }

    private static void assertEveryCommandRefused(MutexConnectionEngine c, String phase) {
        assertRefused(phase, c::connect);
        assertRefused(phase, c::disconnect);
        assertRefused(phase, () -> c.handshakeCompleted(handshake(PEER, 3)));
        assertRefused(phase, c::goodbyeReceived);
        assertRefused(phase, c::notifyHeartbeat);
        assertRefused(phase, c::checkHeartbeat);
        assertRefused(phase, () -> c.send(numberedFrame(9)));
        assertRefused(phase, c::close);
    }

    @Test
    void shouldRefuseEveryCommandDuringAndAfterTheHandoverAndKeepAnsweringQueries() {
        start(Map.of());
        MutexConnectionEngine c = connected(1);
        long queriesBefore = c.metrics().totalQueries();

        Handover h = c.beginHandover();
        assertEveryCommandRefused(c, "HANDING_OVER");
        ConnectionEngine next = to.adopt(h, listener.asEngineEvents());
        c.completeHandover();
        assertEveryCommandRefused(c, "HANDED_OVER");

        assertEquals(CONNECTED, c.getState(), "the frozen state");
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(1, c.getRemoteDevices().size());
        assertTrue(c.getTimeSinceLastHeartbeat() < Long.MAX_VALUE);
        assertTrue(c.metrics().totalQueries() > queriesBefore, "queries still answer and count");
        assertEquals(0, link.dataCount());
        assertEquals(CONNECTED, next.getState());
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1"), listener.whats(), "no event from a refusal");
    }

    @Test
    void shouldRejectCompleteAndAbortWithoutABegin() {
        start(Map.of());
        MutexConnectionEngine c = connected(0);

        assertThrows(IllegalStateException.class, c::completeHandover);
        assertThrows(IllegalStateException.class, c::abortHandover);
        Handover h = c.beginHandover();
        to.adopt(h, listener.asEngineEvents());
        c.completeHandover();
        assertThrows(IllegalStateException.class, c::completeHandover);
        assertThrows(IllegalStateException.class, c::abortHandover);
        assertThrows(IllegalStateException.class, c::beginHandover);
    }

    // ---- completeHandover and abortHandover ----------------------------------------------------------------------

    @Test
    void shouldRetireOnCompleteIntoTheOldStrategysTotals() {
        start(Map.of());
        MutexConnectionEngine c = connected(0);
        for (int i = 0; i < 100; i++) {
            c.getState();
        }
        assertEquals(1, from.openConnections());

        Handover h = c.beginHandover();
        ConnectionEngine next = to.adopt(h, listener.asEngineEvents());
        assertEquals(1, from.openConnections(), "still open until complete");
        c.completeHandover();

        assertEquals(0, from.openConnections());
        assertEquals(1, to.openConnections());
        long retired = c.metrics().totalQueries();
        assertTrue(retired >= 100);
        assertEquals(retired, from.metrics().totalQueries(), "folded once, as of the handover");
        assertEquals(1, from.metrics().callbacksDispatched());
        c.getState(); // the old engine still answers; later queries are its own, not in the totals
        assertEquals(retired, from.metrics().totalQueries());
        assertEquals(retired + 1, c.metrics().totalQueries());
        assertEquals(0, to.metrics().totalQueries());
        next.getState();
        assertEquals(1, to.metrics().totalQueries());
    }

    @Test
    void shouldResumeOnAbortAndRunCommandsAgain() {
        start(Map.of());
        MutexConnectionEngine c = connected(1);

        Handover h = c.beginHandover();
        c.abortHandover();

        assertEquals(CONNECTED, h.state());
        assertEquals(MutexConnectionEngine.Phase.ACTIVE, c.phase());
        assertEquals(1, from.openConnections());
        assertTrue(c.send(numberedFrame(1)));
        c.disconnect();
        await().atMost(WAIT).until(() -> listener.size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED"), listener.whats());
        assertEquals(1, link.dataCount());
    }

    @Test
    void shouldDialAgainWhenAbortedWhileConnecting() throws Exception {
        start(Map.of("handshake_threads", 1));
        ControllableHandshaker h = ControllableHandshaker.scripted();
        MutexConnectionEngine c = engine(h);
        c.connect();
        await().atMost(WAIT).until(() -> h.calls() == 1);

        Handover ho = c.beginHandover(); // abandons the handshake in flight
        c.abortHandover();
        h.respond(handshake(PEER, 1)); // the abandoned one's answer: ignored
        await().atMost(WAIT).until(() -> h.calls() == 2); // the new one
        assertEquals(CONNECTING, c.getState());
        h.respond(handshake(PEER, 1));

        await().atMost(WAIT).until(() -> c.getState() == CONNECTED);
        assertEquals(CONNECTING, ho.state());
        await().atMost(WAIT).until(() -> listener.size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:1"), listener.whats());
        drainHandshakes(from);
        assertEquals(2, h.calls());
    }

    // ---- adopt ---------------------------------------------------------------------------------------------------

    @Test
    void shouldSendHandedOverFramesFirstAndRaiseNoEventForTheMove() {
        start(Map.of());
        DataFrame first = numberedFrame(1);
        DataFrame second = numberedFrame(2);
        Handshake peer = handshake(PEER, 2);
        long heartbeat = System.nanoTime() - TimeUnit.SECONDS.toNanos(5);
        Handover h = new Handover(context(ControllableHandshaker.scripted()), CONNECTED, Optional.of(peer), heartbeat,
                List.of(first, second));

        ConnectionEngine c = to.adopt(h, listener.asEngineEvents());
        assertTrue(c.send(numberedFrame(3)));

        assertEquals(List.of(1, 2, 3), link.frameNumbers());
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(peer.devices(), c.getRemoteDevices());
        assertTrue(c.getTimeSinceLastHeartbeat() >= 5000, "heartbeat time not taken over");
        assertEquals(1, to.openConnections());
        c.disconnect();
        await().atMost(WAIT).until(() -> listener.size() > 0);
        assertEquals(List.of("CONNECTED>DISCONNECTED"), listener.whats(), "the adoption itself raised an event");
    }

    @Test
    void shouldDropHandedOverFramesWhenNotConnected() {
        start(Map.of());
        Handover h = new Handover(context(ControllableHandshaker.scripted()), DISCONNECTED,
                Optional.of(handshake(PEER, 1)), Long.MIN_VALUE, List.of(numberedFrame(1)));

        ConnectionEngine c = to.adopt(h, listener.asEngineEvents());

        assertEquals(0, link.dataCount());
        assertEquals(1, c.metrics().droppedMessages());
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Long.MAX_VALUE, c.getTimeSinceLastHeartbeat());
    }

    @Test
    void shouldRunItsOwnHandshakeWhenAdoptedWhileConnecting() {
        start(Map.of());
        ControllableHandshaker h = ControllableHandshaker.answering(handshake(PEER, 1));
        Handover handover = new Handover(context(h), CONNECTING, Optional.empty(), Long.MIN_VALUE, List.of());

        ConnectionEngine c = to.adopt(handover, listener.asEngineEvents());

        await().atMost(WAIT).until(() -> c.getState() == CONNECTED);
        await().atMost(WAIT).until(() -> listener.size() >= 2);
        assertEquals(List.of("CONNECTING>CONNECTED", "devices:1"), listener.whats());
        assertEquals(1, h.calls());
    }

    @Test
    void shouldRefuseToAdoptWhenStopped() {
        start(Map.of());
        Handover h = connected(0).beginHandover();
        to.deactivate();
        assertThrows(IllegalStateException.class, () -> to.adopt(h, listener.asEngineEvents()));
        assertEquals(0, to.openConnections());
        to = null;
    }

    // ---- deactivation --------------------------------------------------------------------------------------------

    @Test
    void shouldLeaveAnEngineBeingHandedOverAloneOnDeactivation() {
        start(Map.of());
        MutexConnectionEngine moving = connected(1);
        MutexConnectionEngine staying = engine(ControllableHandshaker.scripted());
        staying.handshakeCompleted(handshake(PEER, 1));
        Handover h = moving.beginHandover();

        from.deactivate();
        from = null;

        assertEquals(DISCONNECTED, staying.getState());
        assertEquals(CONNECTED, moving.getState());
        assertEquals(MutexConnectionEngine.Phase.HANDING_OVER, moving.phase());
        ConnectionEngine next = to.adopt(h, listener.asEngineEvents());
        moving.completeHandover();
        assertEquals(CONNECTED, next.getState());
        assertTrue(next.send(numberedFrame(1)));
        assertEquals(1, link.dataCount());
    }

    // ---- sampled latency -----------------------------------------------------------------------------------------

    @Test
    void shouldTimeAboutOneQueryInSixtyFour() {
        start(Map.of());
        MutexConnectionEngine c = connected(0);
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
}
