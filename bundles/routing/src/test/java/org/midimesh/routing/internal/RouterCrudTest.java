package org.midimesh.routing.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.routing.internal.RouterFixture.change;
import static org.midimesh.routing.internal.RouterFixture.cc;
import static org.midimesh.routing.internal.RouterFixture.local;
import static org.midimesh.routing.internal.RouterFixture.remote;
import static org.midimesh.routing.internal.RouterFixture.route;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.DeviceType;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteRequest;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RouterCrudTest {

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
    void shouldCreateRouteWithDefaults() {
        Route r = router.create(route(local(1), local(11)));

        assertEquals(r.id(), UUID.fromString(r.id()).toString());
        assertTrue(r.enabled());
        assertEquals(100, r.priority());
        assertEquals(local(1), r.source());
        assertEquals(local(11), r.destination());
        assertEquals(0, r.channelFilter());
        assertEquals(Set.of(), r.messageTypes());
        assertEquals(0, r.messagesForwarded());
        assertEquals(0, r.messagesDropped());
        assertFalse(r.orphaned());
        assertEquals(List.of(r), router.routes());
        assertEquals(Optional.of(r), router.get(r.id()));
    }

    @Test
    void shouldCreateRouteWithAllFieldsAndRemoteEndpoints() {
        RouteRequest req = new RouteRequest(Optional.of(remote(21)), Optional.of(remote(31)), Optional.of(false),
                Optional.of(1000), Optional.of(16), Optional.of(Set.of(MessageType.NOTE_ON, MessageType.SYSTEM)));

        Route r = router.create(req);

        assertFalse(r.enabled());
        assertEquals(1000, r.priority());
        assertEquals(16, r.channelFilter());
        assertEquals(Set.of(MessageType.NOTE_ON, MessageType.SYSTEM), r.messageTypes());
        assertFalse(r.orphaned(), "the peer lists both devices");
        assertEquals("", r.orphanedReason());
    }

    @Test
    void shouldReportOrphanedWhileARemoteDeviceIsGoneAndRecoverWhenItComesBack() {
        Route r = router.create(route(local(1), remote(31)));

        f.mesh.removeRemoteDevice(RouterFixture.PEER, 31);

        Route orphaned = router.get(r.id()).orElseThrow();
        assertTrue(orphaned.orphaned());
        assertEquals("destination: node " + RouterFixture.PEER + " has no device 31 (now)", orphaned.orphanedReason());
        assertTrue(router.routes().get(0).orphaned(), "listings say so too");
        f.mesh.addRemoteDevice(RouterFixture.PEER, 31, DeviceType.OUTPUT);
        assertFalse(router.get(r.id()).orElseThrow().orphaned());
    }

    @Test
    void shouldUpdateOnlyTheGivenFieldsAndKeepStatistics() {
        Route r = router.create(route(local(1), local(11)));
        router.inputProduced(f.in1, List.of(cc(1, 7, 100), cc(1, 7, 101)));

        Route u = router.update(r.id(), change(false, 7, null, null)).orElseThrow();

        assertFalse(u.enabled());
        assertEquals(7, u.priority());
        assertEquals(0, u.channelFilter());
        assertEquals(2, u.messagesForwarded());
        assertEquals(u, router.get(r.id()).orElseThrow());

        Route u2 = router.update(r.id(), change(null, null, 3, Set.of(MessageType.CONTROL_CHANGE))).orElseThrow();
        assertFalse(u2.enabled());
        assertEquals(7, u2.priority());
        assertEquals(3, u2.channelFilter());
        assertEquals(Set.of(MessageType.CONTROL_CHANGE), u2.messageTypes());
    }

    @Test
    void shouldAcceptUnchangedEndpointsOnUpdateButRejectChangedOnes() {
        Route r = router.create(route(local(1), local(11)));
        RouteRequest echo = new RouteRequest(Optional.of(local(1)), Optional.of(local(11)), Optional.of(false),
                Optional.empty(), Optional.empty(), Optional.empty());
        assertFalse(router.update(r.id(), echo).orElseThrow().enabled());

        RouteRequest move = new RouteRequest(Optional.empty(), Optional.of(local(12)), Optional.of(true),
                Optional.empty(), Optional.empty(), Optional.empty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> router.update(r.id(), move));
        assertTrue(e.getMessage().startsWith("destination"), e.getMessage());
        assertFalse(router.get(r.id()).orElseThrow().enabled(), "a failed update changes nothing");
    }

    @Test
    void shouldDeleteRoute() {
        Route a = router.create(route(local(1), local(11)));
        Route b = router.create(route(local(2), local(12)));

        assertTrue(router.delete(a.id()));

        assertEquals(List.of(b.id()), router.routes().stream().map(Route::id).toList());
        assertTrue(router.get(a.id()).isEmpty());
        assertFalse(router.delete(a.id()));
    }

    @Test
    void shouldAnswerUnknownRouteIdWithEmptyOrFalse() {
        String unknown = UUID.randomUUID().toString();

        assertTrue(router.get(unknown).isEmpty());
        assertTrue(router.update(unknown, change(false, null, null, null)).isEmpty());
        assertFalse(router.delete(unknown));
        assertTrue(router.get(null).isEmpty());
        assertFalse(router.delete(null));
    }

    @Test
    void shouldListRoutesHighestPriorityFirst() {
        Route low = router.create(route(local(1), local(11), 10, 0, Set.of()));
        Route high = router.create(route(local(1), local(12), 900, 0, Set.of()));
        Route mid = router.create(route(local(2), local(13), 100, 0, Set.of()));

        assertEquals(List.of(high.id(), mid.id(), low.id()), router.routes().stream().map(Route::id).toList());
    }

    @Test
    void shouldReportOrphanedWhenLocalDeviceDisappears() {
        Route r = router.create(route(local(1), local(11)));

        f.devices.remove(11);

        assertTrue(router.get(r.id()).orElseThrow().orphaned());
        assertEquals("destination: this node has no device 11 (now)", router.get(r.id()).orElseThrow().orphanedReason());
        assertEquals(1, router.routes().size(), "an orphaned route is kept");
        router.inputProduced(f.in1, List.of(cc(1, 1, 1)));
        assertEquals(0, router.get(r.id()).orElseThrow().messagesForwarded());
        assertEquals(1, router.get(r.id()).orElseThrow().messagesDropped());
    }

    @Test
    void shouldWriteFileOnEveryChange() throws Exception {
        Path file = dir.resolve("routes.json");
        assertFalse(Files.exists(file));
        Route r = router.create(route(local(1), local(11)));
        assertTrue(Files.readString(file).contains(r.id()));
        router.update(r.id(), change(null, 555, null, null));
        assertTrue(Files.readString(file).contains("555"));
        router.delete(r.id());
        assertFalse(Files.readString(file).contains(r.id()));
    }
}
