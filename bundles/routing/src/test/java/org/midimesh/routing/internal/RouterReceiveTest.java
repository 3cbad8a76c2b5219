package org.midimesh.routing.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.midimesh.routing.internal.RouterFixture.LOCAL;
import static org.midimesh.routing.internal.RouterFixture.PEER;
import static org.midimesh.routing.internal.RouterFixture.cc;
import static org.midimesh.routing.internal.RouterFixture.local;
import static org.midimesh.routing.internal.RouterFixture.noteOn;
import static org.midimesh.routing.internal.RouterFixture.remote;
import static org.midimesh.routing.internal.RouterFixture.route;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.transport.DataFrame;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RouterReceiveTest {

    private static final NodeId OTHER = NodeId.parse("44444444-4444-4444-4444-444444444444");

    @TempDir
    Path dir;

    RouterFixture f;
    Router router;

    @BeforeEach
    void setUp() {
        f = new RouterFixture(dir);
        router = f.router;
    }

    @Test
    void shouldPlayAReceivedFrameOnTheLocalOutput() {
        List<MidiMessage> msgs = List.of(noteOn(1, 60), cc(1, 7, 90), noteOn(1, 64));

        router.dataReceived(PEER, new DataFrame(11, PEER, 21, 0, msgs), 1, 0);

        assertEquals(List.of(new FakeDeviceRegistry.Played(11, msgs, PEER)), f.devices.played());
        assertEquals(3, router.receivedPlayed());
        assertEquals(new RoutingService.Stats(0, 0, 0), router.stats());
    }

    @Test
    void shouldCountAFrameForAnUnknownOrInputDeviceAsDropped() {
        router.dataReceived(PEER, new DataFrame(99, PEER, 21, 0, List.of(cc(1, 1, 1))), 1, 0);
        router.dataReceived(PEER, new DataFrame(1, PEER, 21, 0, List.of(cc(1, 1, 1), cc(1, 1, 2))), 2, 0);

        assertEquals(List.of(), f.devices.played());
        assertEquals(2, router.receiveErrors());
        assertEquals(new RoutingService.Stats(0, 3, 0), router.stats());
    }

    @Test
    void shouldForwardAReceivedFrameOnwardWithOneMoreHop() {
        // this node relays PEER's input 21 to OTHER's output 41 and to local output 12
        f.mesh.addRemoteDevice(OTHER, 41, DeviceType.OUTPUT);
        router.create(route(remote(21), new RouteEndpoint(OTHER, 41)));
        router.create(route(remote(21), local(12)));
        List<MidiMessage> msgs = List.of(noteOn(2, 60), noteOn(2, 61));

        router.dataReceived(PEER, new DataFrame(11, PEER, 21, 3, msgs), 1, 0);

        FakeConnection other = (FakeConnection) f.mesh.connection(OTHER).orElseThrow();
        assertEquals(List.of(new DataFrame(41, PEER, 21, 4, msgs)), other.sent());
        assertEquals(msgs, f.devices.playedOn(11));
        assertEquals(msgs, f.devices.playedOn(12));
        assertEquals(PEER, f.devices.played().get(1).source(), "the source node is kept when relaying");
        assertEquals(new RoutingService.Stats(4, 0, 0), router.stats());
    }

    @Test
    void shouldStopAtTheHopLimitAndCountALoop() {
        router.create(route(remote(21), remote(31)));
        List<MidiMessage> msgs = List.of(cc(1, 1, 1));

        router.dataReceived(PEER, new DataFrame(11, PEER, 21, DataFrame.MAX_HOPS - 1, msgs), 1, 0);
        router.dataReceived(PEER, new DataFrame(11, PEER, 21, DataFrame.MAX_HOPS, msgs), 2, 0);

        assertEquals(List.of(new DataFrame(31, PEER, 21, DataFrame.MAX_HOPS, msgs)), f.peer.sent());
        assertEquals(2, f.devices.playedOn(11).size(), "a frame within the limit is still played");
        assertEquals(1, router.stats().loopsDetected());
    }

    @Test
    void shouldDropAFrameBeyondTheHopLimit() {
        router.dataReceived(PEER, new DataFrame(11, PEER, 21, DataFrame.MAX_HOPS + 1, List.of(cc(1, 1, 1))), 1, 0);

        assertEquals(List.of(), f.devices.played());
        assertEquals(new RoutingService.Stats(0, 1, 1), router.stats());
    }

    @Test
    void shouldNotRerouteOwnInputThatCameBack() {
        router.create(route(local(1), remote(31)));
        List<MidiMessage> msgs = List.of(cc(1, 1, 1));

        router.dataReceived(PEER, new DataFrame(11, LOCAL, 1, 1, msgs), 1, 0);

        assertEquals(msgs, f.devices.playedOn(11));
        assertEquals(List.of(), f.peer.sent());
        assertEquals(1, router.stats().loopsDetected());
    }

    @Test
    void shouldStopALocalLoopbackWithoutOverflowingTheStack() {
        // output 11 feeds input 1 synchronously, as a loopback port would
        router.create(route(local(1), local(11)));
        f.devices.onPlay = p -> router.inputProduced(f.in1, p.messages());

        router.inputProduced(f.in1, List.of(cc(1, 1, 1)));

        assertEquals(DataFrame.MAX_HOPS, f.devices.playedOn(11).size());
        assertEquals(1, router.stats().loopsDetected());
    }
}
