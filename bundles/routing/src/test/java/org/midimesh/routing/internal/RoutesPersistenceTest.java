package org.midimesh.routing.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.routing.internal.RouterFixture.change;
import static org.midimesh.routing.internal.RouterFixture.local;
import static org.midimesh.routing.internal.RouterFixture.remote;
import static org.midimesh.routing.internal.RouterFixture.route;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.Route;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RoutesPersistenceTest {

    private static final String VALID_ID = "0b6f3c5e-8f0e-4c4a-9d52-5f1c2a9e7b10";

    @TempDir
    Path dir;

    RouterFixture f;
    Path file;

    @BeforeEach
    void setUp() {
        f = new RouterFixture(dir);
        file = dir.resolve("routes.json");
    }

    private List<String> filesInDir() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Settings only: statistics are kept in memory and start at 0 after a restart. */
    private static List<Route> withoutStats(List<Route> routes) {
        return routes.stream().map(r -> new Route(r.id(), r.enabled(), r.priority(), r.source(), r.destination(),
                r.channelFilter(), r.messageTypes(), 0, 0, r.orphaned(), r.orphanedReason())).toList();
    }

    @Test
    void shouldRestoreRoutesInANewRouterInstance() {
        Router router = f.router;
        router.create(route(local(1), local(11)));
        Route b = router.create(route(local(2), remote(31), 700, 5,
                Set.of(MessageType.NOTE_ON, MessageType.NOTE_OFF, MessageType.SYSTEM)));
        Route c = router.create(route(remote(21), local(12)));
        router.update(c.id(), change(false, 3, null, null));
        router.inputProduced(f.in1, List.of(RouterFixture.cc(1, 1, 1)));

        Router restarted = f.newRouter();

        assertEquals(withoutStats(router.routes()), restarted.routes());
        assertEquals(b, restarted.get(b.id()).orElseThrow());
    }

    @Test
    void shouldWriteSnakeCaseJson() throws Exception {
        f.router.create(route(local(1), local(11), 100, 2, Set.of(MessageType.CONTROL_CHANGE)));

        String json = Files.readString(file);

        for (String key : List.of("\"version\"", "\"routes\"", "\"route_id\"", "\"enabled\"", "\"priority\"",
                "\"source\"", "\"destination\"", "\"node_id\"", "\"device_id\"", "\"channel_filter\"",
                "\"message_types\"", "\"control_change\"")) {
            assertTrue(json.contains(key), key + " in " + json);
        }
    }

    @Test
    void shouldLeaveNoTempFilesAfterManyWrites() throws Exception {
        Router router = f.router;
        for (int i = 0; i < 50; i++) {
            Route r = router.create(route(local(1), local(11)));
            router.update(r.id(), change(null, i, null, null));
            if (i % 2 == 0) {
                router.delete(r.id());
            }
        }

        assertEquals(List.of("routes.json"), filesInDir());
        assertEquals(25, f.newRouter().routes().size());
    }

    @Test
    void shouldDeleteTempFilesLeftByAKilledWriteAndKeepTheOldFile() throws Exception {
        Route r = f.router.create(route(local(1), local(11)));
        Files.writeString(dir.resolve("routes.json.123456.tmp"), "{\"version\":1,\"rou");

        Router restarted = f.newRouter();

        assertEquals(List.of(r.id()), restarted.routes().stream().map(Route::id).toList());
        assertEquals(List.of("routes.json"), filesInDir());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "not json", "[]", "{\"version\":1}", "{\"version\":2,\"routes\":[]}",
            "{\"version\":1,\"routes\":{}}", "{\"version\":1,\"routes\":[]} trailing"})
    void shouldMoveACorruptFileAsideAndStartWithNoRoutes(String content) throws Exception {
        Files.writeString(file, content);

        Router router = f.newRouter();

        assertEquals(List.of(), router.routes());
        List<String> files = filesInDir();
        assertEquals(1, files.size(), files.toString());
        assertTrue(files.get(0).startsWith("routes.json.corrupt-"), files.toString());
        assertEquals(content, Files.readString(dir.resolve(files.get(0))), "the corrupt file is kept as it was");

        router.create(route(local(1), local(11)));
        assertEquals(1, f.newRouter().routes().size(), "a fresh file is written on the next change");
    }

    @Test
    void shouldSkipInvalidEntriesAndKeepValidOnes() throws Exception {
        String node = RouterFixture.LOCAL.toString();
        String src = "\"source\":{\"node_id\":\"" + node + "\",\"device_id\":1}";
        String dst = "\"destination\":{\"node_id\":\"" + node + "\",\"device_id\":11}";
        Files.writeString(file, "{\"version\":1,\"routes\":["
                + "{\"route_id\":\"" + VALID_ID + "\"," + src + "," + dst + "},"
                + "{\"route_id\":\"a\"," + src + "," + dst + ",\"channel_filter\":17},"
                + "{\"route_id\":\"b\"," + src + "," + dst + ",\"priority\":5000},"
                + "{\"route_id\":\"c\"," + src + "," + dst + ",\"message_types\":[\"bogus\"]},"
                + "{\"route_id\":\"d\"," + src + ",\"destination\":{\"node_id\":\"xyz\",\"device_id\":11}},"
                + "{\"route_id\":\"e\"," + src + ",\"destination\":{\"node_id\":\"" + node + "\",\"device_id\":0}},"
                + "{\"route_id\":\"f\"," + src + ",\"enabled\":\"yes\"," + dst + "},"
                + "{" + src + "," + dst + "},"
                + "{\"route_id\":\"" + VALID_ID + "\"," + src + "," + dst + "},"
                + "42"
                + "]}");

        Router router = f.newRouter();

        List<Route> routes = router.routes();
        assertEquals(1, routes.size(), routes.toString());
        Route r = routes.get(0);
        assertEquals(VALID_ID, r.id());
        assertTrue(r.enabled());
        assertEquals(100, r.priority());
        assertEquals(0, r.channelFilter());
        assertEquals(Set.of(), r.messageTypes());
        assertEquals(List.of("routes.json"), filesInDir(), "invalid entries do not make the file corrupt");
    }

    @Test
    void shouldLoadRoutesWhoseDevicesDoNotExistYetAsOrphaned() throws Exception {
        Route r = f.router.create(route(local(1), local(11)));
        f.devices.remove(11);

        Router restarted = f.newRouter();

        assertTrue(restarted.get(r.id()).orElseThrow().orphaned());
        assertFalse(f.router.get(r.id()).isEmpty());
    }
}
