package org.midimesh.example.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;
import static org.midimesh.example.sync.SyncFixtures.PEER;
import static org.midimesh.example.sync.SyncFixtures.WAIT;
import static org.midimesh.example.sync.SyncFixtures.waiting;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

/**
 * What the contract suite does not reach through the manager: deactivation with engines in every phase, the
 * handover's own bounds, and adopting frames another strategy had queued.
 */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SyncConnectionStrategyTest {

    private final SyncFixtures fx = new SyncFixtures();

    @AfterEach
    void stop() {
        fx.close();
    }

    @Test
    void shouldCloseActiveEnginesLeaveHandingOverOnesAndStopItsThreadsOnDeactivate() {
        SyncConnectionStrategy s = fx.start(Map.of("inject_lock_hold_us", 10L));
        RecordingConnectionListener la = new RecordingConnectionListener();
        ConnectionEngine a = fx.connected(s, la);
        ControllableHandshaker h = fx.scripted();
        RecordingConnectionListener lb = new RecordingConnectionListener();
        ConnectionEngine b = s.create(fx.context(h, new RecordingPeerLink()), lb.asEngineEvents());
        b.connect();
        waiting().until(() -> h.calls() == 1); // a handshake in flight on the connect thread
        ConnectionEngine c = fx.connected(s, new RecordingConnectionListener());
        Handover handover = c.beginHandover();
        for (int i = 0; i < 10; i++) {
            a.getState();
        }

        s.deactivate();

        assertTrue(s.threadsStopped(), "deactivate returned with a thread of the strategy still running");
        assertEquals(DISCONNECTED, a.getState());
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), la.states(),
                "the event of the close was not delivered before the event thread ended");
        assertEquals(DISCONNECTED, b.getState());
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>DISCONNECTED"), lb.states());
        waiting().until(() -> h.inFlight() == 0); // interrupted; its late result is ignored
        assertEquals(DISCONNECTED, b.getState());

        a.connect(); // commands after the stop are ignored, never thrown
        a.handshakeCompleted(handshake(PEER, 2));
        assertFalse(a.send(numberedFrame(1)));
        assertEquals(DISCONNECTED, a.getState());

        assertEquals(CONNECTED, c.getState(), "deactivate touched an engine handing over");
        assertThrows(IllegalStateException.class, c::disconnect);
        c.completeHandover();

        RecordingConnectionListener l = new RecordingConnectionListener();
        assertThrows(IllegalStateException.class, () -> s.create(fx.context(fx.scripted(), new RecordingPeerLink()),
                l.asEngineEvents()));
        assertThrows(IllegalStateException.class, () -> s.adopt(handover, l.asEngineEvents()));
        s.deactivate(); // idempotent
        ConnectionMetrics total = s.metrics();
        assertTrue(total.totalQueries() >= 10 && total.callbacksDispatched() >= 6, total.toString());
    }

    @Test
    void shouldStopWithinItsBoundEvenWhenAnEventSinkIsStuck() throws InterruptedException {
        SyncConnectionStrategy s = fx.start(Map.of());
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ConnectionEngine e = s.create(fx.context(fx.scripted(), new RecordingPeerLink()), new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS); // stuck, but bounded
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void error(String message) {
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
            }
        });
        try {
            e.handshakeCompleted(handshake(PEER, 1));
            assertTrue(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS));

            s.deactivate(); // waits at most STOP_TIMEOUT_MS for the event thread, then interrupts it

            waiting().until(s::threadsStopped);
            assertEquals(DISCONNECTED, e.getState());
        } finally {
            release.countDown();
        }
    }

    @Test
    void shouldGiveUpAHandoverWhoseEventsAreNotDeliveredInTimeAndGoOn() throws InterruptedException {
        SyncConnectionStrategy s = fx.start(Map.of("handover_timeout_ms", 200L));
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RecordingConnectionListener l = new RecordingConnectionListener();
        EngineEvents recording = l.asEngineEvents();
        ConnectionEngine e = s.create(fx.context(fx.scripted(), new RecordingPeerLink()), new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                if (to == DISCONNECTED) {
                    entered.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
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
        e.handshakeCompleted(handshake(PEER, 1));
        e.disconnect();
        assertTrue(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        try {
            IllegalStateException refused = assertThrows(IllegalStateException.class, e::beginHandover);
            assertTrue(refused.getMessage().contains("not delivered"), refused.getMessage());
            assertEquals(1, e.metrics().stalls());
            e.handshakeCompleted(handshake(PEER, 2)); // ACTIVE again: commands are taken
            assertEquals(CONNECTED, e.getState());
        } finally {
            release.countDown();
        }
        waiting().until(() -> l.states().size() == 3);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                l.states());
        Handover h = e.beginHandover(); // the events are through: a later handover works
        assertEquals(CONNECTED, h.state());
        e.abortHandover();
        e.close();
    }

    @Test
    void shouldRefuseABeginHandoverFromItsOwnEventThread() {
        SyncConnectionStrategy s = fx.start(Map.of());
        AtomicReference<ConnectionEngine> engine = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        RecordingConnectionListener l = new RecordingConnectionListener();
        EngineEvents recording = l.asEngineEvents();
        ConnectionEngine e = s.create(fx.context(fx.scripted(), new RecordingPeerLink()), new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                try {
                    engine.get().beginHandover();
                } catch (Throwable t) {
                    thrown.set(t);
                }
                recording.stateChanged(from, to);
            }

            @Override
            public void error(String message) {
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
            }
        });
        engine.set(e);

        e.handshakeCompleted(handshake(PEER, 1));

        waiting().until(() -> l.states().size() == 1);
        assertInstanceOf(IllegalStateException.class, thrown.get());
        assertEquals(SyncConnectionEngine.Phase.ACTIVE, ((SyncConnectionEngine) e).phase());
        e.disconnect(); // still takes commands
        waiting().until(() -> l.states().size() == 2);
    }

    @Test
    void shouldAdoptSendingTheQueuedFramesFirstWithoutAnEvent() {
        SyncConnectionStrategy s = fx.start(Map.of());
        RecordingPeerLink link = new RecordingPeerLink();
        long heartbeat = System.nanoTime();
        Handover h = new Handover(fx.context(fx.scripted(), link), CONNECTED, Optional.of(handshake(PEER, 2)),
                heartbeat, List.of(numberedFrame(0), numberedFrame(1)));
        RecordingConnectionListener l = new RecordingConnectionListener();

        ConnectionEngine e = s.adopt(h, l.asEngineEvents());
        assertTrue(e.send(numberedFrame(2)));

        assertEquals(List.of(0, 1, 2), link.frameNumbers());
        assertEquals(CONNECTED, e.getState());
        assertEquals(Optional.of(PEER), e.getRemoteId());
        assertEquals(2, e.getRemoteDevices().size());
        assertTrue(e.getTimeSinceLastHeartbeat() < Long.MAX_VALUE);
        e.disconnect(); // a marker: every event raised before it has been delivered once it arrives
        waiting().until(() -> l.size() == 1);
        assertEquals(List.of("CONNECTED>DISCONNECTED"), l.states(), "the move raised an event");
    }
}
