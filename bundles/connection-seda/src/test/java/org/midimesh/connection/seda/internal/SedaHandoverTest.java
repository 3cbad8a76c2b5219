package org.midimesh.connection.seda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;
import static org.midimesh.connection.seda.internal.Wait.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
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

/**
 * The seda engine's side of a hot swap, driven as the strategy manager drives it (beginHandover only when no command
 * runs, adopt on another strategy, then completeHandover or abortHandover), between two seda strategy instances or
 * with a hand-made {@link Handover}. The mixed seda/mutex directions are in the contract subclasses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class SedaHandoverTest {

    private static final NodeId PEER = NodeId.random();

    private final RecordingPeerLink link = new RecordingPeerLink();
    // The stable connection's listener: every engine of the connection reports here, as through the manager.
    private final RecordingConnectionListener listener = new RecordingConnectionListener();
    private final List<SedaConnectionStrategy> strategies = new ArrayList<>();

    @AfterEach
    void stop() {
        link.openGate();
        for (SedaConnectionStrategy s : strategies) {
            s.deactivate();
        }
    }

    private SedaConnectionStrategy strategy(Map<String, Object> config) {
        SedaConnectionStrategy s = new SedaConnectionStrategy(Configs.of(SedaConnectionStrategy.Config.class, config));
        strategies.add(s);
        return s;
    }

    private ConnectionContext context(Handshaker h) {
        return FakePeers.context(h, link);
    }

    private SedaConnectionEngine create(SedaConnectionStrategy s, Handshaker h) {
        return (SedaConnectionEngine) s.create(context(h), listener.asEngineEvents());
    }

    private SedaConnectionEngine connected(SedaConnectionStrategy s) {
        SedaConnectionEngine c = create(s, ControllableHandshaker.scripted());
        c.handshakeCompleted(handshake(PEER, 1));
        await().until(() -> c.getState() == CONNECTED);
        await().until(() -> listener.whats().size() >= 2);
        return c;
    }

    private SedaConnectionEngine adopt(SedaConnectionStrategy s, Handover h) {
        return (SedaConnectionEngine) s.adopt(h, listener.asEngineEvents());
    }

    /**
     * Sends frames 1..{@code last} while the mailbox's owner is stuck in the link with frame 1 (a sender of its own:
     * {@link HeldSend}), begins a handover behind them, then lets the link go: frames 2..last are then held for the
     * successor, not sent.
     */
    private Handover beginBehindFrames(SedaConnectionEngine c, int last) throws Exception {
        CompletableFuture<Boolean> first = HeldSend.hold(c, link, numberedFrame(1));
        for (int i = 2; i <= last; i++) {
            assertTrue(c.send(numberedFrame(i)));
        }
        CompletableFuture<Handover> begun = beginInBackground(c);
        await().until(() -> c.mailbox().depth() == last); // frames 2..last and the barrier
        link.openGate();
        assertTrue(first.get(20, TimeUnit.SECONDS));
        return begun.get(20, TimeUnit.SECONDS);
    }

    private static CompletableFuture<Handover> beginInBackground(SedaConnectionEngine c) {
        return CompletableFuture.supplyAsync(c::beginHandover, r -> new Thread(r, "test-handover").start());
    }

    private static List<Integer> seqs(List<org.midimesh.api.transport.DataFrame> frames) {
        return frames.stream().map(FakePeers::numberOf).collect(Collectors.toList());
    }

    /** Every command of the engine, each of which must be refused while a handover has it. */
    private static Map<String, Executable> commands(ConnectionEngine c) {
        return Map.of("connect", c::connect, "disconnect", c::disconnect,
                "handshakeCompleted", () -> c.handshakeCompleted(handshake(PEER, 2)),
                "goodbyeReceived", c::goodbyeReceived, "notifyHeartbeat", c::notifyHeartbeat,
                "checkHeartbeat", c::checkHeartbeat, "send", () -> c.send(numberedFrame(99)), "close", c::close);
    }

    // ---- beginHandover -------------------------------------------------------------------------------------------

    @Test
    void shouldCaptureTheStateWithTheTrailingFramesInOrder() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        Handover h = beginBehindFrames(c, 5);

        assertEquals(CONNECTED, h.state());
        assertEquals(List.of(2, 3, 4, 5), seqs(h.queuedFrames()), "queued, not sent: handed over in order");
        assertEquals(Optional.of(PEER), h.peer().map(p -> p.node().id()));
        assertEquals(FakePeers.devices(1), h.peer().orElseThrow().devices());
        assertTrue(h.lastHeartbeatNanos() != SedaConnectionEngine.NEVER);
        assertEquals(List.of(1), link.frameNumbers());
        assertTrue(c.mailbox().isHeld());
        assertTrue(c.isHandingOver());
        assertEquals(1, a.openConnections(), "a's until the handover completes: it may still be called off");
    }

    @Test
    void shouldDeliverTheEventsRaisedBeforeTheHandoverBeforeReturningIt() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 600_000L)); // no bound runs out here
        CountDownLatch slow = new CountDownLatch(1);
        EngineEvents events = new EngineEvents() { // the receiver is still busy with the devices when begin is called
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                listener.asEngineEvents().stateChanged(from, to);
            }

            @Override
            public void error(String message) {
                listener.asEngineEvents().error(message);
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
                try {
                    slow.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                listener.asEngineEvents().devicesChanged(devices);
            }
        };
        SedaConnectionEngine c = (SedaConnectionEngine) a.create(context(ControllableHandshaker.scripted()), events);
        c.handshakeCompleted(handshake(PEER, 2));
        await().until(() -> listener.states().size() == 1);

        CompletableFuture<Handover> begun = beginInBackground(c);
        await().until(() -> c.mailbox().isHeld()); // the worker is at the barrier: begin waits for the receiver
        assertFalse(begun.isDone(), "the devices event raised before the handover is not delivered yet");
        slow.countDown();
        Handover h = begun.get(20, TimeUnit.SECONDS);

        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:2"), listener.whats(), "delivered before it returned");
        assertEquals(FakePeers.devices(2), h.peer().orElseThrow().devices());
        assertEquals(0, c.metrics().stalls());
    }

    @Test
    void shouldIgnoreALateHandshakeResultAndLetTheSuccessorDialItsOwn() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 500L));
        SedaConnectionStrategy b = strategy(Map.of());
        ControllableHandshaker hs = ControllableHandshaker.scripted();
        SedaConnectionEngine c = create(a, hs);
        c.connect();
        await().until(() -> hs.calls() == 1);

        Handover h = c.beginHandover(); // waits 500 ms for the handshake, then goes on without it
        assertEquals(CONNECTING, h.state());
        hs.respond(handshake(PEER, 2)); // the late result reaches the held mailbox
        await().until(() -> hs.returned() == 1 && c.mailbox().depth() == 1);
        assertEquals(CONNECTING, c.getState(), "the late result changes nothing");
        assertEquals(Optional.empty(), c.getRemoteId());

        SedaConnectionEngine next = adopt(b, h);
        c.completeHandover();
        assertEquals(0, c.mailbox().depth(), "discarded");
        assertEquals(CONNECTING, c.getState());
        await().until(() -> hs.calls() == 2); // the successor dials its own
        assertTrue(hs.threads().get(1).startsWith("midimesh-seda-handshake-"));
        hs.respond(handshake(PEER, 2));
        await().until(() -> next.getState() == CONNECTED);
        await().until(() -> listener.whats().size() >= 3);
        next.inspectAsync().get(20, TimeUnit.SECONDS);

        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:2"), listener.whats(),
                "no event from the old engine after the barrier, none for the move");
        assertEquals(CONNECTING, c.getState(), "the old engine stays as it was handed over");
    }

    @Test
    void shouldCallOffAHandoverTheWorkerCannotReachInTimeAndGoOnAsBefore() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 50L));
        SedaConnectionEngine c = connected(a);
        CompletableFuture<Boolean> first = HeldSend.hold(c, link, numberedFrame(1));
        assertTrue(c.send(numberedFrame(2)));

        IllegalStateException e = assertThrows(IllegalStateException.class, c::beginHandover);
        assertTrue(e.getMessage().contains("handover not started"), e.getMessage());
        assertTrue(c.isOpen());
        assertEquals(1, c.metrics().stalls(), "the barrier was not reached within its bound");
        assertTrue(c.send(numberedFrame(3)), "commands are taken again");
        link.openGate();
        assertTrue(first.get(20, TimeUnit.SECONDS));
        await().until(() -> link.dataCount() == 3);
        assertEquals(List.of(1, 2, 3), link.frameNumbers());

        a.modified(Configs.of(SedaConnectionStrategy.Config.class, Map.of("query_timeout_ms", 20_000L))); // live
        Handover h = c.beginHandover(); // the worker is free now
        assertEquals(CONNECTED, h.state());
        assertEquals(List.of(), h.queuedFrames());
        assertEquals(1, c.metrics().stalls());
    }

    @Test
    void shouldRefuseABeginWhileHandingOverAfterTheHandoverAndAfterClose() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        Handover h = c.beginHandover();
        assertThrows(IllegalStateException.class, c::beginHandover);
        adopt(b, h);
        c.completeHandover();
        assertThrows(IllegalStateException.class, c::beginHandover);
        assertThrows(IllegalStateException.class, c::completeHandover);
        assertThrows(IllegalStateException.class, c::abortHandover);

        SedaConnectionEngine d = connected(a);
        assertThrows(IllegalStateException.class, d::completeHandover, "no handover has begun");
        assertThrows(IllegalStateException.class, d::abortHandover, "no handover has begun");
        d.close();
        assertThrows(IllegalStateException.class, d::beginHandover);
        assertThrows(IllegalStateException.class, d::completeHandover);
        assertThrows(IllegalStateException.class, d::abortHandover);
    }

    // ---- commands while a handover has the engine ----------------------------------------------------------------

    @Test
    void shouldRefuseEveryCommandDuringAndAfterTheHandoverButKeepAnsweringQueries() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        Handover h = c.beginHandover();

        for (Map.Entry<String, Executable> command : commands(c).entrySet()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, command.getValue(), command.getKey());
            assertTrue(e.getMessage().contains(command.getKey() + " while HANDING_OVER"), e.getMessage());
        }
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(FakePeers.devices(1), c.getRemoteDevices());
        assertTrue(c.getTimeSinceLastHeartbeat() < Duration.ofHours(1).toMillis());
        assertEquals(0, c.mailbox().depth(), "nothing was queued");

        adopt(b, h);
        c.completeHandover();
        for (Map.Entry<String, Executable> command : commands(c).entrySet()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, command.getValue(), command.getKey());
            assertTrue(e.getMessage().contains(command.getKey() + " while HANDED_OVER"), e.getMessage());
        }
        assertEquals(CONNECTED, c.getState(), "the state as it was handed over");
        assertEquals(Optional.of(PEER), c.getRemoteNode().map(n -> n.id()));
        assertEquals("seda", c.metrics().strategy());
        ExecutionException e = assertThrows(ExecutionException.class, () -> c.inspectAsync().get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalStateException);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1"), listener.whats(), "no event for any of it");
        assertTrue(link.sent().isEmpty());
    }

    // ---- completeHandover ----------------------------------------------------------------------------------------

    @Test
    void shouldHandOverToAnotherSedaStrategyWithoutLossDuplicateOrEvent() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        Handover h = beginBehindFrames(c, 5);

        SedaConnectionEngine next = adopt(b, h);
        assertEquals(CONNECTED, next.getState());
        assertTrue(next.send(numberedFrame(6)), "after the handed-over frames");
        c.completeHandover();
        assertTrue(next.send(numberedFrame(7)));

        await().until(() -> link.dataCount() == 7);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), link.frameNumbers());
        assertEquals(Optional.of(PEER), next.getRemoteId());
        assertEquals(FakePeers.devices(1), next.getRemoteDevices());
        assertTrue(next.getTimeSinceLastHeartbeat() < Duration.ofHours(1).toMillis());

        next.disconnect();
        await().until(() -> listener.whats().size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED"), listener.whats(),
                "no event for the move itself");
        assertEquals(CONNECTED, c.getState(), "the old engine is frozen");
    }

    @Test
    void shouldRetireIntoTheStrategyTotalsOnceWhenTheHandoverCompletes() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        for (int i = 0; i < 100; i++) {
            c.getState();
        }
        assertTrue(c.send(numberedFrame(1)));
        await().until(() -> link.dataCount() == 1);
        Handover h = c.beginHandover();
        assertEquals(1, a.openConnections());

        adopt(b, h);
        c.completeHandover();
        ConnectionMetrics own = c.metrics();
        assertEquals(0, a.openConnections(), "retired");
        assertEquals(1, b.openConnections());
        ConnectionMetrics total = a.metrics();
        assertEquals(own.totalQueries(), total.totalQueries());
        assertEquals(own.commandsProcessed(), total.commandsProcessed());
        assertEquals(own.callbacksDispatched(), total.callbacksDispatched());
        assertTrue(total.totalQueries() >= 100, total.toString());
        assertEquals(0, total.queueDepth());
        assertThrows(IllegalStateException.class, c::completeHandover, "once");
        assertEquals(total, a.metrics(), "nothing is folded in twice");
    }

    // ---- abortHandover -------------------------------------------------------------------------------------------

    @Test
    void shouldSendTheHeldFramesFirstWhenTheHandoverIsCalledOffWithNothingElseQueued() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        assertEquals(List.of(2, 3), seqs(beginBehindFrames(c, 3).queuedFrames()));

        c.abortHandover(); // no command follows: the worker must still run once to send them
        await().until(() -> link.dataCount() == 3);
        assertEquals(List.of(1, 2, 3), link.frameNumbers());
        assertTrue(c.isOpen());
        assertEquals(1, a.openConnections(), "still the strategy's");
    }

    @Test
    void shouldSendTheHeldFramesBeforeWhatWasQueuedBehindTheBarrierThenGoOn() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionEngine c = connected(a);
        assertEquals(List.of(2, 3, 4, 5), seqs(beginBehindFrames(c, 5).queuedFrames()));
        CompletableFuture<WorkerSnapshot> query = c.inspectAsync(); // a query may arrive: it waits behind the barrier
        assertFalse(query.isDone(), "the mailbox is held");
        assertEquals(List.of(1), link.frameNumbers());

        c.abortHandover();
        WorkerSnapshot s = query.get(20, TimeUnit.SECONDS);
        assertEquals(List.of(1, 2, 3, 4, 5), link.frameNumbers(), "the held frames went out before the query ran");
        assertEquals(CONNECTED, s.state());
        assertThrows(IllegalStateException.class, c::abortHandover, "nothing left to call off");

        assertTrue(c.send(numberedFrame(6)), "commands are taken again");
        c.disconnect();
        await().until(() -> c.getState() == DISCONNECTED);
        await().until(() -> link.dataCount() == 6);
        assertEquals(List.of(1, 2, 3, 4, 5, 6), link.frameNumbers(), "each once, in order");
        await().until(() -> listener.whats().size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED"), listener.whats());

        c.handshakeCompleted(handshake(PEER, 3));
        await().until(() -> c.getState() == CONNECTED);
        Handover again = c.beginHandover(); // a later handover works as if the first had never begun
        assertEquals(CONNECTED, again.state());
        assertEquals(FakePeers.devices(3), again.peer().orElseThrow().devices());
    }

    @Test
    void shouldTakeTheHandshakeResultThatArrivedDuringACalledOffHandover() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 500L));
        ControllableHandshaker hs = ControllableHandshaker.scripted();
        SedaConnectionEngine c = create(a, hs);
        c.connect();
        await().until(() -> hs.calls() == 1);
        Handover h = c.beginHandover();
        assertEquals(CONNECTING, h.state());
        hs.respond(handshake(PEER, 2));
        await().until(() -> hs.returned() == 1 && c.mailbox().depth() == 1); // held behind the barrier

        c.abortHandover();
        await().until(() -> c.getState() == CONNECTED);
        await().until(() -> listener.whats().size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:2"), listener.whats());
        assertEquals(1, hs.calls(), "the handshake was never abandoned: its result counts, no second dial");
    }

    @Test
    void shouldStillConnectWhenAHandoverWhileConnectingIsCalledOffBeforeTheResult() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 500L));
        ControllableHandshaker hs = ControllableHandshaker.scripted();
        SedaConnectionEngine c = create(a, hs);
        c.connect();
        await().until(() -> hs.calls() == 1);
        assertEquals(CONNECTING, c.beginHandover().state());

        c.abortHandover();
        hs.respond(handshake(PEER, 1)); // the result of the handshake in flight all along
        await().until(() -> c.getState() == CONNECTED);
        await().until(() -> listener.whats().size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:1"), listener.whats());
        assertEquals(1, hs.calls());
    }

    // ---- adopt ---------------------------------------------------------------------------------------------------

    @Test
    void shouldAdoptAForeignHandoverSendingItsFramesFirstWithoutEvents() throws Exception {
        SedaConnectionStrategy b = strategy(Map.of());
        long heartbeat = System.nanoTime();
        Handover h = new Handover(context(ControllableHandshaker.scripted()), CONNECTED,
                Optional.of(handshake(PEER, 2)), heartbeat, List.of(numberedFrame(1), numberedFrame(2)));

        SedaConnectionEngine next = adopt(b, h);
        assertTrue(next.send(numberedFrame(3)));

        await().until(() -> link.dataCount() == 3);
        assertEquals(List.of(1, 2, 3), link.frameNumbers());
        assertEquals(CONNECTED, next.getState());
        assertEquals(2, next.getRemoteDevices().size());
        assertTrue(next.getTimeSinceLastHeartbeat() < Duration.ofHours(1).toMillis());
        assertEquals(List.of(), listener.whats(), "no event for the move");
        next.disconnect();
        await().until(() -> listener.whats().size() == 1);
        assertEquals(List.of("CONNECTED>DISCONNECTED"), listener.whats(), "reports to the events it was given");
    }

    @Test
    void shouldDialItsOwnHandshakeWhenAdoptingAConnectingHandover() throws Exception {
        SedaConnectionStrategy b = strategy(Map.of());
        ControllableHandshaker hs = ControllableHandshaker.scripted();
        Handover h = new Handover(context(hs), CONNECTING, Optional.empty(), SedaConnectionEngine.NEVER,
                List.of(numberedFrame(1)));

        SedaConnectionEngine next = adopt(b, h);
        assertEquals(CONNECTING, next.getState());
        await().until(() -> hs.calls() == 1);
        hs.respond(handshake(PEER, 1));
        await().until(() -> next.getState() == CONNECTED);

        await().until(() -> listener.whats().size() == 2);
        assertEquals(List.of("CONNECTING>CONNECTED", "devices:1"), listener.whats());
        assertTrue(link.sent().isEmpty(), "the handed-over frame met CONNECTING: dropped, not sent late");
        assertEquals(1, next.metrics().droppedMessages());
    }

    @Test
    void shouldCountFramesOfAHandoverThatIsNotConnectedAsDropped() throws Exception {
        SedaConnectionStrategy b = strategy(Map.of());
        Handover h = new Handover(context(ControllableHandshaker.scripted()), ConnectionState.FAILED,
                Optional.of(handshake(PEER, 0)), SedaConnectionEngine.NEVER, List.of(numberedFrame(1)));

        SedaConnectionEngine next = adopt(b, h);
        next.inspectAsync().get(20, TimeUnit.SECONDS);

        assertTrue(link.sent().isEmpty());
        assertEquals(1, next.metrics().droppedMessages());
        assertEquals(Long.MAX_VALUE, next.getTimeSinceLastHeartbeat());
        assertFalse(next.send(numberedFrame(2)));
    }

    // ---- the strategy's deactivation -----------------------------------------------------------------------------

    @Test
    void shouldLeaveAHandingOverEngineToTheSwapOnDeactivationAndCloseTheRest() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaConnectionEngine moving = connected(a);
        RecordingConnectionListener other = new RecordingConnectionListener();
        SedaConnectionEngine staying = (SedaConnectionEngine) a.create(context(ControllableHandshaker.scripted()),
                other.asEngineEvents());
        staying.handshakeCompleted(handshake(NodeId.random(), 0));
        await().until(() -> staying.getState() == CONNECTED);
        Handover h = moving.beginHandover();

        a.deactivate();

        assertTrue(staying.closedFuture().isDone(), "closed");
        assertEquals(DISCONNECTED, staying.getState());
        assertTrue(moving.isHandingOver(), "left alone: it belongs to the swap");
        assertFalse(moving.closedFuture().isDone());
        assertEquals(CONNECTED, moving.getState());
        assertEquals(1, a.openConnections());

        SedaConnectionEngine next = adopt(b, h); // the swap goes on as if nothing happened
        moving.completeHandover();
        assertEquals(0, a.openConnections());
        assertTrue(next.send(numberedFrame(1)));
        await().until(() -> link.dataCount() == 1);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1"), listener.whats(), "no DISCONNECTED for it");
        await().until(() -> other.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), other.states());
    }

    @Test
    void shouldNeverBothCloseAndHandOverAnEngineWhenDeactivationRacesABegin() throws Exception {
        for (int round = 0; round < 50; round++) {
            SedaConnectionStrategy a = strategy(Map.of());
            SedaConnectionEngine c = connected(a);
            CompletableFuture<Object> begin = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.beginHandover();
                } catch (IllegalStateException e) {
                    return e;
                }
            }, r -> new Thread(r, "test-handover").start());
            a.deactivate();
            Object outcome = begin.get(20, TimeUnit.SECONDS);
            if (outcome instanceof Handover) {
                assertTrue(c.isHandingOver(), "begin won: the handover has the engine");
                assertFalse(c.closedFuture().isDone(), "begin won: deactivation did not close it");
                c.abortHandover();
            } else {
                IllegalStateException e = (IllegalStateException) outcome;
                assertTrue(e.getMessage().contains("it is CLOSED"), e.getMessage());
                assertTrue(c.closedFuture().isDone(), "deactivation won: closed");
            }
        }
    }
}
