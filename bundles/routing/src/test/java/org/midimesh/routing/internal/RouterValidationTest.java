package org.midimesh.routing.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.routing.internal.RouterFixture.STRANGER;
import static org.midimesh.routing.internal.RouterFixture.change;
import static org.midimesh.routing.internal.RouterFixture.local;
import static org.midimesh.routing.internal.RouterFixture.remote;
import static org.midimesh.routing.internal.RouterFixture.route;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RouterValidationTest {

    @TempDir
    Path dir;

    RouterFixture f;
    Router router;

    @BeforeEach
    void setUp() {
        f = new RouterFixture(dir);
        router = f.router;
    }

    static Stream<Arguments> badCreates() {
        RouteEndpoint in = local(1);
        RouteEndpoint out = local(11);
        return Stream.of(
                Arguments.of("missing source", new RouteRequest(Optional.empty(), Optional.of(out), Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty()), "source is missing"),
                Arguments.of("missing destination", new RouteRequest(Optional.of(in), Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()),
                        "destination is missing"),
                Arguments.of("unknown local source", route(local(99), out), "source.device_id"),
                Arguments.of("unknown local destination", route(in, local(99)), "destination.device_id"),
                Arguments.of("source is an output", route(local(12), out), "source.device_id"),
                Arguments.of("destination is an input", route(in, local(2)), "destination.device_id"),
                Arguments.of("unknown remote node", route(in, new RouteEndpoint(STRANGER, 31)),
                        "destination.node_id"),
                Arguments.of("unknown remote source node", route(new RouteEndpoint(STRANGER, 21), out),
                        "source.node_id"),
                Arguments.of("unknown remote device", route(in, remote(99)), "destination.device_id"),
                Arguments.of("remote source is an output", route(remote(31), out), "source.device_id"),
                Arguments.of("remote destination is an input", route(in, remote(21)), "destination.device_id"),
                Arguments.of("channel 17", route(in, out, 100, 17, Set.of()), "channel_filter"),
                Arguments.of("channel -1", route(in, out, 100, -1, Set.of()), "channel_filter"),
                Arguments.of("priority 1001", route(in, out, 1001, 0, Set.of()), "priority"),
                Arguments.of("priority -1", route(in, out, -1, 0, Set.of()), "priority"),
                Arguments.of("null message type", route(in, out, 100, 0, nullType()), "message_types"));
    }

    private static Set<MessageType> nullType() {
        Set<MessageType> s = new HashSet<>();
        s.add(null);
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCreates")
    void shouldRejectInvalidCreateNamingTheFieldAndChangeNothing(String what, RouteRequest req, String field) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> router.create(req));

        assertTrue(e.getMessage().startsWith(field), "message should name " + field + ": " + e.getMessage());
        assertEquals(List.of(), router.routes());
        assertFalse(Files.exists(dir.resolve("routes.json")), "nothing written");
    }

    /** Issue 7: a peer shown connected with 0 devices; the refusal says so instead of "not a connected peer". */
    @Test
    void shouldSayWhenTheNodeIsConnectedButToldOfNoDevices() {
        f.mesh.addPeerWithoutDevices(STRANGER);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> router.create(route(local(1), new RouteEndpoint(STRANGER, 31))));
        assertEquals("destination.node_id: " + STRANGER + " is connected but has told this node of no devices (yet: a"
                + " peer's device list follows its changes within 2 s; GET /network/mesh shows how many devices each"
                + " peer has)", e.getMessage());
        assertEquals(List.of(), router.routes());
    }

    @Test
    void shouldRejectNullRequest() {
        assertThrows(IllegalArgumentException.class, () -> router.create(null));
    }

    @Test
    void shouldRejectInvalidUpdateAndChangeNothing() throws Exception {
        Route r = router.create(route(local(1), local(11)));
        String fileBefore = Files.readString(dir.resolve("routes.json"));

        IllegalArgumentException ch = assertThrows(IllegalArgumentException.class,
                () -> router.update(r.id(), change(false, null, 17, null)));
        IllegalArgumentException pr = assertThrows(IllegalArgumentException.class,
                () -> router.update(r.id(), change(false, 1001, null, null)));

        assertTrue(ch.getMessage().startsWith("channel_filter"), ch.getMessage());
        assertTrue(pr.getMessage().startsWith("priority"), pr.getMessage());
        assertEquals(Optional.of(r), router.get(r.id()), "enabled was not applied either");
        assertEquals(fileBefore, Files.readString(dir.resolve("routes.json")));
    }

    @Test
    void shouldThrowIllegalStateAndChangeNothingWhenTheFileCannotBeWritten() throws Exception {
        Route r = router.create(route(local(1), local(11)));
        // routes.json becomes a non-empty directory: the atomic rename onto it fails
        Path file = dir.resolve("routes.json");
        Files.delete(file);
        Files.createDirectory(file);
        Files.writeString(file.resolve("blocker"), "x");

        assertThrows(IllegalStateException.class, () -> router.create(route(local(2), local(12))));
        assertThrows(IllegalStateException.class, () -> router.update(r.id(), change(false, null, null, null)));
        assertThrows(IllegalStateException.class, () -> router.delete(r.id()));

        assertEquals(List.of(r), router.routes());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temp file left behind");
        }
    }
}
