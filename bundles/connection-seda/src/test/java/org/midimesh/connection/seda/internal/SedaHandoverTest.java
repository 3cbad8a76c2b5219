package org.midimesh.connection.seda.internal;

import static org.midimesh.connection.seda.internal.Wait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

/** Hot swap between two seda strategy instances (the mutex directions are in the contract subclasses). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class SedaHandoverTest {

    private static final NodeId PEER = NodeId.random();

    private final RecordingPeerLink link = new RecordingPeerLink();
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

    private SedaNetworkConnection connected(SedaConnectionStrategy s) {
        SedaNetworkConnection c = (SedaNetworkConnection) s.create(context(ControllableHandshaker.scripted()));
        c.addListener(listener);
        c.handshakeCompleted(handshake(PEER, 1));
        await().until(() -> c.getState() == CONNECTED);
        await().until(() -> listener.whats().size() >= 2);
        return c;
    }

    /**
     * Sends frames 1..{@code last} while the worker is stuck in the link with frame 1, begins a handover behind them,
     * then lets the link go: frames 2..last are then held for the successor, not sent.
     */
    private ConnectionHandover beginBehindFrames(SedaNetworkConnection c, int last) throws Exception {
        link.closeGate();
        assertTrue(c.send(numberedFrame(1)));
        assertTrue(link.awaitBlocked(10, TimeUnit.SECONDS)); // the worker is inside the link with frame 1
        for (int i = 2; i <= last; i++) {
            assertTrue(c.send(numberedFrame(i)));
        }
        CompletableFuture<ConnectionHandover> begun = beginInBackground(c);
        await().until(() -> c.mailbox().depth() == last); // frames 2..last and the barrier
        link.openGate();
        return begun.get(20, TimeUnit.SECONDS);
    }

    private static CompletableFuture<ConnectionHandover> beginInBackground(SedaNetworkConnection c) {
        return CompletableFuture.supplyAsync(c::beginHandover, r -> new Thread(r, "test-handover").start());
    }

    private static List<Integer> seqs(List<org.midimesh.api.transport.DataFrame> frames) {
        return frames.stream().map(FakePeers::numberOf).collect(Collectors.toList());
    }

    @Test
    void shouldHandOverQueuedFramesAndKeptCommandsInOrderWithoutLossOrDuplicate() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaNetworkConnection c = connected(a);
        ConnectionHandover h = beginBehindFrames(c, 5);

        assertEquals(CONNECTED, h.state());
        assertEquals(List.of(2, 3, 4, 5), seqs(h.queuedFrames()), "queued, not sent: handed over in order");
        assertEquals(Optional.of(PEER), h.peer().map(p -> p.node().id()));
        assertEquals(FakePeers.devices(1), h.peer().orElseThrow().devices());
        assertEquals(List.of(listener), h.listeners());
        assertTrue(h.lastHeartbeatNanos() != SedaNetworkConnection.NEVER);
        assertEquals(List.of(1), link.frameNumbers());
        assertEquals(1, a.openConnections(), "a's until the handover completes: it may still be called off");

        assertTrue(c.send(numberedFrame(6)), "kept for the successor");
        c.checkHeartbeat();
        assertTrue(c.send(numberedFrame(7)));
        NetworkConnection next = b.adopt(h);
        assertEquals(CONNECTED, next.getState());
        c.completeHandover(next);

        await().until(() -> link.dataCount() == 7);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), link.frameNumbers());
        assertEquals(CONNECTED, c.getState(), "forwarded to the successor");
        assertEquals(Optional.of(PEER), next.getRemoteId());
        assertEquals(FakePeers.devices(1), next.getRemoteDevices());
        assertTrue(next.getTimeSinceLastHeartbeat() < Duration.ofHours(1).toMillis());
        assertEquals(1, b.openConnections());
        assertEquals(0, a.openConnections());

        c.disconnect(); // a late caller of the old connection
        await().until(() -> next.getState() == DISCONNECTED);
        await().until(() -> listener.whats().size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "devices:1", "CONNECTED>DISCONNECTED"), listener.whats(),
                "no callback for the move itself");
        c.close(); // a no-op now
        assertEquals(DISCONNECTED, next.getState());
    }

    @Test
    void shouldSendTheHeldFramesFirstAndThenTheKeptCommandsWhenTheHandoverIsCalledOff() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaNetworkConnection c = connected(a);
        ConnectionHandover h = beginBehindFrames(c, 5);
        assertEquals(List.of(2, 3, 4, 5), seqs(h.queuedFrames()));
        assertTrue(c.send(numberedFrame(6)), "kept");
        c.checkHeartbeat();
        assertTrue(c.send(numberedFrame(7)));
        assertEquals(List.of(1), link.frameNumbers());

        c.abortHandover();
        await().until(() -> link.dataCount() == 7);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), link.frameNumbers(), "held frames first, then the kept ones, once");
        assertEquals(CONNECTED, c.getState());
        assertEquals(1, a.openConnections(), "still the strategy's");
        assertTrue(c.send(numberedFrame(8)));
        await().until(() -> link.dataCount() == 8);
    }

    @Test
    void shouldSendTheHeldFramesWhenAHandoverIsCalledOffWithNothingKept() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaNetworkConnection c = connected(a);
        assertEquals(List.of(2, 3), seqs(beginBehindFrames(c, 3).queuedFrames()));

        c.abortHandover(); // no command follows: the worker must still run once to send them
        await().until(() -> link.dataCount() == 3);
        assertEquals(List.of(1, 2, 3), link.frameNumbers());
    }

    @Test
    void shouldReplayCommandsThatArriveDuringTheHandoverOnTheSuccessor() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaNetworkConnection c = connected(a);
        ConnectionHandover h = c.beginHandover();
        RecordingConnectionListener second = new RecordingConnectionListener();
        c.addListener(second);
        c.goodbyeReceived();
        c.handshakeCompleted(handshake(PEER, 3));
        assertEquals(CONNECTED, c.getState(), "nothing runs on the old connection any more");

        NetworkConnection next = b.adopt(h);
        c.completeHandover(next);

        await().until(() -> second.whats().size() == 3);
        assertEquals(List.of("CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED", "devices:3"), second.whats());
        assertEquals(3, next.getRemoteDevices().size());
    }

    @Test
    void shouldLetTheSuccessorResumeAHandshakeStillInFlight() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 500L));
        SedaConnectionStrategy b = strategy(Map.of());
        ControllableHandshaker hs = ControllableHandshaker.scripted();
        SedaNetworkConnection c = (SedaNetworkConnection) a.create(context(hs));
        c.addListener(listener);
        c.connect();
        await().until(() -> hs.calls() == 1);

        ConnectionHandover h = c.beginHandover(); // waits 500 ms for the handshake, then goes on without it
        assertEquals(CONNECTING, h.state());
        NetworkConnection next = b.adopt(h);
        c.completeHandover(next);
        await().until(() -> hs.calls() == 2);
        assertTrue(hs.threads().get(1).startsWith("midimesh-seda-handshake-"));

        hs.respond(handshake(PEER, 2));
        hs.respond(handshake(PEER, 2));
        await().until(() -> next.getState() == CONNECTED);
        await().until(() -> listener.whats().size() >= 3);
        ((SedaNetworkConnection) next).inspectAsync().get(20, TimeUnit.SECONDS);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "devices:2"), listener.whats());
    }

    @Test
    void shouldCallOffAHandoverTheWorkerCannotReachInTimeAndGoOnAsBefore() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of("query_timeout_ms", 50L));
        SedaNetworkConnection c = connected(a);
        link.closeGate();
        assertTrue(c.send(numberedFrame(1)));
        assertTrue(link.awaitBlocked(10, TimeUnit.SECONDS));
        assertTrue(c.send(numberedFrame(2)));

        IllegalStateException e = assertThrows(IllegalStateException.class, c::beginHandover);
        assertTrue(e.getMessage().contains("handover not started"), e.getMessage());
        assertTrue(c.isOpen());
        assertTrue(c.send(numberedFrame(3)));
        link.openGate();
        await().until(() -> link.dataCount() == 3);
        assertEquals(List.of(1, 2, 3), link.frameNumbers());

        ConnectionHandover h = c.beginHandover(); // the worker is free now
        assertEquals(CONNECTED, h.state());
        assertEquals(List.of(), h.queuedFrames());
    }

    @Test
    void shouldRefuseASecondBeginAndOneAfterClose() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaNetworkConnection c = connected(a);
        c.beginHandover();
        assertThrows(IllegalStateException.class, c::beginHandover);
        assertThrows(IllegalArgumentException.class, () -> c.completeHandover(c));

        SedaNetworkConnection d = connected(a);
        d.close();
        assertThrows(IllegalStateException.class, d::beginHandover);
        assertThrows(IllegalStateException.class, () -> d.completeHandover(c));
    }

    @Test
    void shouldPassACloseDuringTheHandoverToTheSuccessor() throws Exception {
        SedaConnectionStrategy a = strategy(Map.of());
        SedaConnectionStrategy b = strategy(Map.of());
        SedaNetworkConnection c = connected(a);
        ConnectionHandover h = c.beginHandover();
        c.close();
        SedaNetworkConnection next = (SedaNetworkConnection) b.adopt(h);
        c.completeHandover(next);

        next.closedFuture().get(20, TimeUnit.SECONDS);
        assertEquals(DISCONNECTED, next.getState());
        assertEquals(0, b.openConnections());
    }

    @Test
    void shouldAdoptAForeignHandoverSendingItsFramesFirstWithoutCallbacks() throws Exception {
        SedaConnectionStrategy b = strategy(Map.of());
        long heartbeat = System.nanoTime();
        ConnectionHandover h = new ConnectionHandover(context(ControllableHandshaker.scripted()), CONNECTED,
                Optional.of(handshake(PEER, 2)), heartbeat, List.of(listener),
                List.of(numberedFrame(1), numberedFrame(2)));

        NetworkConnection next = b.adopt(h);
        assertTrue(next.send(numberedFrame(3)));

        await().until(() -> link.dataCount() == 3);
        assertEquals(List.of(1, 2, 3), link.frameNumbers());
        assertEquals(CONNECTED, next.getState());
        assertEquals(2, next.getRemoteDevices().size());
        assertTrue(next.getTimeSinceLastHeartbeat() < Duration.ofHours(1).toMillis());
        next.disconnect();
        await().until(() -> listener.whats().size() == 1);
        assertEquals(List.of("CONNECTED>DISCONNECTED"), listener.whats(), "the listeners moved with it");
    }

    @Test
    void shouldCountFramesOfAHandoverThatIsNotConnectedAsDropped() throws Exception {
        SedaConnectionStrategy b = strategy(Map.of());
        ConnectionHandover h = new ConnectionHandover(context(ControllableHandshaker.scripted()),
                ConnectionState.FAILED, Optional.of(handshake(PEER, 0)), SedaNetworkConnection.NEVER, List.of(),
                List.of(numberedFrame(1)));

        SedaNetworkConnection next = (SedaNetworkConnection) b.adopt(h);
        next.inspectAsync().get(20, TimeUnit.SECONDS);

        assertTrue(link.sent().isEmpty());
        assertEquals(1, next.metrics().droppedMessages());
        assertEquals(Long.MAX_VALUE, next.getTimeSinceLastHeartbeat());
        assertFalse(next.send(numberedFrame(2)));
    }
}
