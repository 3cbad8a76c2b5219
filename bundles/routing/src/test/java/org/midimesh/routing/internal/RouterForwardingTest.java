package org.midimesh.routing.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.routing.internal.RouterFixture.LOCAL;
import static org.midimesh.routing.internal.RouterFixture.PEER;
import static org.midimesh.routing.internal.RouterFixture.cc;
import static org.midimesh.routing.internal.RouterFixture.change;
import static org.midimesh.routing.internal.RouterFixture.clock;
import static org.midimesh.routing.internal.RouterFixture.local;
import static org.midimesh.routing.internal.RouterFixture.noteOn;
import static org.midimesh.routing.internal.RouterFixture.remote;
import static org.midimesh.routing.internal.RouterFixture.route;
import static org.midimesh.routing.internal.RouterFixture.sysEx;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.transport.DataFrame;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RouterForwardingTest {

    @TempDir
    Path dir;

    RouterFixture f;
    Router router;

    @BeforeEach
    void setUp() {
        f = new RouterFixture(dir);
        router = f.router;
    }

    private Route reread(Route r) {
        return router.get(r.id()).orElseThrow();
    }

    @Test
    void shouldFilterOnChannel() {
        Route r = router.create(route(local(1), local(11), 100, 2, Set.of()));
        MidiMessage ch2 = cc(2, 1, 1);

        router.inputProduced(f.in1, List.of(cc(1, 1, 1), ch2, noteOn(3, 60), cc(2, 1, 1)));

        assertEquals(List.of(ch2, ch2), f.devices.playedOn(11));
        assertEquals(2, reread(r).messagesForwarded());
        assertEquals(2, reread(r).messagesDropped());
    }

    @Test
    void shouldFilterOnMessageType() {
        Route r = router.create(route(local(1), local(11), 100, 0,
                Set.of(MessageType.NOTE_ON, MessageType.PITCH_BEND)));
        MidiMessage note = noteOn(5, 60);
        MidiMessage bend = MidiMessage.of((byte) 0xe0, (byte) 0, (byte) 64);

        router.inputProduced(f.in1, List.of(cc(1, 1, 1), note, clock(), bend));

        assertEquals(List.of(note, bend), f.devices.playedOn(11));
        assertEquals(2, reread(r).messagesDropped());
    }

    @Test
    void shouldPassSystemMessagesOnlyWithoutChannelFilter() {
        Route all = router.create(route(local(1), local(11), 100, 0, Set.of()));
        Route ch1 = router.create(route(local(1), local(12), 100, 1, Set.of()));
        Route sysOnly = router.create(route(local(1), local(13), 100, 0, Set.of(MessageType.SYSTEM)));
        MidiMessage note = noteOn(1, 60);

        router.inputProduced(f.in1, List.of(clock(), note, sysEx()));

        assertEquals(List.of(clock(), note, sysEx()), f.devices.playedOn(11));
        assertEquals(List.of(note), f.devices.playedOn(12));
        assertEquals(List.of(clock(), sysEx()), f.devices.playedOn(13));
        assertEquals(2, reread(ch1).messagesDropped());
        assertEquals(1, reread(sysOnly).messagesDropped());
        assertEquals(3, reread(all).messagesForwarded());
    }

    @Test
    void shouldForwardHighestPriorityFirstAndEqualPrioritiesInCreationOrder() {
        router.create(route(local(1), local(11), 10, 0, Set.of()));
        router.create(route(local(1), local(12), 500, 0, Set.of()));
        router.create(route(local(1), local(13), 10, 0, Set.of()));

        router.inputProduced(f.in1, List.of(cc(1, 1, 1)));

        assertEquals(List.of(12, 11, 13), f.devices.played().stream().map(FakeDeviceRegistry.Played::output).toList());
    }

    @Test
    void shouldFollowPriorityChanges() {
        Route a = router.create(route(local(1), local(11), 10, 0, Set.of()));
        router.create(route(local(1), local(12), 500, 0, Set.of()));
        router.update(a.id(), change(null, 900, null, null));

        router.inputProduced(f.in1, List.of(cc(1, 1, 1)));

        assertEquals(List.of(11, 12), f.devices.played().stream().map(FakeDeviceRegistry.Played::output).toList());
    }

    @Test
    void shouldIgnoreDisabledRoutesAndOtherSources() {
        Route r = router.create(route(local(1), local(11)));
        router.create(route(local(2), local(12)));
        router.update(r.id(), change(false, null, null, null));

        router.inputProduced(f.in1, List.of(cc(1, 1, 1)));

        assertEquals(List.of(), f.devices.played());
        assertEquals(new RoutingService.Stats(0, 0, 0), router.stats());
    }

    @Test
    void shouldDeliverThousandControlChangesLocallyInOrder() {
        Route r = router.create(route(local(1), local(11)));
        List<MidiMessage> expected = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            MidiMessage m = cc(1 + i % 16, i % 128, (i / 128) % 128);
            expected.add(m);
            router.inputProduced(f.in1, List.of(m));
        }

        assertEquals(expected, f.devices.playedOn(11));
        assertTrue(f.devices.played().stream().allMatch(p -> p.source().equals(LOCAL)));
        assertEquals(1000, reread(r).messagesForwarded());
        assertEquals(new RoutingService.Stats(1000, 0, 0), router.stats());
    }

    @Test
    void shouldSendOneFrameToARemoteOutputKeepingOrder() {
        Route r = router.create(route(local(1), remote(31)));
        List<MidiMessage> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            batch.add(cc(1, 10, i));
        }

        router.inputProduced(f.in1, batch);

        List<DataFrame> sent = f.peer.sent();
        assertEquals(List.of(new DataFrame(31, LOCAL, 1, 0, batch)), sent);
        assertEquals(100, reread(r).messagesForwarded());
    }

    @Test
    void shouldCountMessagesDroppedWhenThePeerIsNotConnected() {
        Route r = router.create(route(local(1), remote(31)));

        f.peer.state = ConnectionState.FAILED;
        router.inputProduced(f.in1, List.of(cc(1, 1, 1), cc(1, 1, 2)));
        f.peer.state = ConnectionState.CONNECTED;
        f.peer.acceptSends = false; // lost the connection between the state check and the send
        router.inputProduced(f.in1, List.of(cc(1, 1, 3)));
        f.mesh.dropConnection(PEER);
        router.inputProduced(f.in1, List.of(cc(1, 1, 4)));

        assertEquals(List.of(), f.peer.sent());
        assertEquals(0, reread(r).messagesForwarded());
        assertEquals(4, reread(r).messagesDropped());
        assertEquals(new RoutingService.Stats(0, 4, 0), router.stats());
    }

    @Test
    void shouldDropSysExToARemoteOutputAndSendTheRealtimeRest() {
        Route r = router.create(route(local(1), remote(31)));
        MidiMessage a = noteOn(1, 60);
        MidiMessage b = noteOn(1, 62);
        MidiMessage songPosition = MidiMessage.of((byte) 0xf2, (byte) 0, (byte) 0);

        router.inputProduced(f.in1, List.of(a, sysEx(), b, songPosition, clock()));
        router.inputProduced(f.in1, List.of(sysEx()));

        assertEquals(List.of(new DataFrame(31, LOCAL, 1, 0, List.of(a, b, clock()))), f.peer.sent());
        assertEquals(3, reread(r).messagesForwarded());
        assertEquals(3, reread(r).messagesDropped());
    }

    @Test
    void shouldDeliverSysExToALocalOutput() {
        router.create(route(local(1), local(11)));

        router.inputProduced(f.in1, List.of(sysEx()));

        assertEquals(List.of(sysEx()), f.devices.playedOn(11));
    }

    @Test
    void shouldKeepForwardingOtherRoutesWhenOnePlayFails() {
        Route bad = router.create(route(local(1), local(11), 900, 0, Set.of()));
        Route good = router.create(route(local(1), local(12), 100, 0, Set.of()));
        f.devices.onPlay = p -> {
            if (p.output() == 11) {
                throw new IllegalStateException("driver failure");
            }
        };

        router.inputProduced(f.in1, List.of(cc(1, 1, 1)));

        assertEquals(1, reread(bad).messagesDropped());
        assertEquals(1, reread(good).messagesForwarded());
        assertEquals(List.of(cc(1, 1, 1)), f.devices.playedOn(12));
    }
}
