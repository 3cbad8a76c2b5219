package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Two nodes, B started with {@code --peer A}: both see each other connected, each lists the other's devices, and a
 * route carries a batch of 1,000 control changes from A's input to B's output. One pair serves the whole class: the
 * tests only read the mesh, and the route test uses devices no other test of the class touches.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TwoNodeMeshE2EIT {

    private Cluster cluster;
    private MidiMeshProcess a;
    private MidiMeshProcess b;

    @BeforeAll
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void startPair() {
        cluster = new Cluster(TwoNodeMeshE2EIT.class);
        a = cluster.start("e2e-a");
        b = cluster.start("e2e-b", "--peer", a.peerAddress());
    }

    @AfterAll
    void stopPair() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** interface.md: device lists seen by a peer follow changes within 2 s. */
    @Test
    void aPeerSeesANewVirtualPortAndItsRemovalWithin2s() {
        MidiMeshProcess.Response made = a.postJson("/midi/virtual-ports",
                "{\"name\": \"e2e follow\", \"type\": \"output\"}");
        assertEquals(201, made.status(), () -> "POST /midi/virtual-ports: " + made);
        int id = made.path("id").asInt();
        E2E.await("b lists a's new port", Duration.ofSeconds(2)).untilAsserted(() -> assertTrue(
                lists(b, a.uuid(), id, "e2e follow"), "b's /midi/devices has a:" + id));
        MidiMeshProcess.Response gone = a.delete("/midi/virtual-ports/" + id);
        assertEquals(200, gone.status(), () -> "DELETE /midi/virtual-ports/" + id + ": " + gone);
        E2E.await("b drops a's deleted port", Duration.ofSeconds(2)).untilAsserted(() -> assertFalse(
                lists(b, a.uuid(), id, "e2e follow"), "b's /midi/devices still has a:" + id));
    }

    private static boolean lists(MidiMeshProcess observer, String owner, int id, String name) {
        for (JsonNode d : observer.getJson("/midi/devices").json().path("devices")) {
            if (owner.equals(E2E.lower(d.path("owner_node"))) && d.path("id").asInt() == id
                    && name.equals(d.path("name").asText())) {
                return true;
            }
        }
        return false;
    }

    @Test
    void readyLineIsTheOnlyStdoutLineAndNamesActualPorts() {
        for (MidiMeshProcess n : List.of(a, b)) {
            assertEquals(List.of(n.readyLine()), n.stdout(), () -> n + " stdout");
            assertTrue(n.httpPort() > 0 && n.udpPort() > 0 && n.tcpPort() > 0, n::readyLine);
            assertEquals("mutex", n.strategy(), n::readyLine);
            JsonNode info = n.getJson("/node/info").json();
            assertEquals(n.uuid(), E2E.lower(info.path("uuid")), () -> "/node/info of " + n + ": " + info);
            assertEquals(n.spec().name(), info.path("name").asText(), () -> "/node/info of " + n + ": " + info);
            assertEquals(n.httpPort(), info.path("http_port").asInt(), () -> "/node/info of " + n + ": " + info);
            assertEquals(n.udpPort(), info.path("udp_port").asInt(), () -> "/node/info of " + n + ": " + info);
            assertEquals(n.tcpPort(), info.path("tcp_port").asInt(), () -> "/node/info of " + n + ": " + info);
        }
    }

    @Test
    void eachNodeKeepsItsOwnIdInItsOwnDataDir() throws IOException {
        assertNotEquals(a.uuid(), b.uuid(), "two nodes, two ids");
        for (MidiMeshProcess n : List.of(a, b)) {
            Path dir = n.spec().dataDir();
            try (Stream<Path> files = Files.walk(dir)) {
                List<Path> withId = files.filter(Files::isRegularFile)
                        .filter(f -> !dir.relativize(f).startsWith("cache"))
                        .filter(f -> E2E.read(f).toLowerCase(Locale.ROOT).contains(n.uuid()))
                        .toList();
                assertFalse(withId.isEmpty(), () -> n + ": the node id is kept in --data-dir " + dir);
            }
        }
    }

    @Test
    void fileInstallKeepsItsScratchDirectoriesInTheDataDir() {
        // By default each FileInstall watcher makes a new directory in the system's temp dir at every start and
        // leaves it behind when the process is killed; the node points both of its watchers into <data-dir>/cache.
        E2E.await("both watchers use the data dir", Duration.ofSeconds(10)).untilAsserted(() -> {
            for (MidiMeshProcess n : List.of(a, b)) {
                Path cache = n.spec().dataDir().resolve("cache");
                assertTrue(Files.isDirectory(cache.resolve("fileinstall-deploy")), () -> n + ": " + cache);
                assertTrue(Files.isDirectory(cache.resolve("fileinstall-etc")), () -> n + ": " + cache);
            }
        });
    }

    @Test
    void bothNodesSeeEachOtherConnectedWithin10s() {
        E2E.await("a and b connected to each other", Duration.ofSeconds(10)).untilAsserted(() -> {
            E2E.assertConnectedExactly(a, b);
            E2E.assertConnectedExactly(b, a);
        });
        JsonNode entry = E2E.meshEntries(a, b.uuid()).get(0);
        assertEquals(b.spec().name(), entry.path("name").asText(), () -> "a's entry for b: " + entry);
        assertEquals(b.udpPort(), entry.path("udp_port").asInt(), () -> "a's entry for b: " + entry);
    }

    @Test
    void eachNodeListsTheOtherNodesDevices() {
        E2E.await("each node lists the other's devices", Duration.ofSeconds(10)).untilAsserted(() -> {
            E2E.assertListsLocalAndRemote(a, b);
            E2E.assertListsLocalAndRemote(b, a);
        });
    }

    @Test
    void routeCarriesOneThousandControlChangesInOrder() {
        // The route needs b's output in a's device list.
        E2E.await("a lists b's devices", Duration.ofSeconds(10))
                .untilAsserted(() -> E2E.assertListsLocalAndRemote(a, b));
        MidiMeshProcess.Response route = a.postJson("/routing/routes", E2E.routeBody("local", 1, b.uuid(), 2));
        assertEquals(201, route.status(), () -> "POST /routing/routes: " + route);
        assertFalse(route.path("route_id").asText("").isEmpty(), () -> "route without route_id: " + route);

        long before = E2E.receivedTotal(b, 2);
        // 1,000 distinct control changes: controller i / 128 (0..7), value i % 128, so order is checkable.
        List<String> sent = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < 1000; i++) {
            sent.add("b0 " + hex.toHexDigits((byte) (i / 128)) + " " + hex.toHexDigits((byte) (i % 128)));
        }
        MidiMeshProcess.Response accepted = a.postJson("/midi/devices/1/send", E2E.sendBody(sent));
        assertEquals(202, accepted.status(), () -> "send: " + accepted);
        assertEquals(1000, accepted.path("accepted").asInt(-1), () -> "send: " + accepted);

        E2E.await("b's output played 1,000 messages", Duration.ofSeconds(10))
                .untilAsserted(() -> assertEquals(before + 1000, E2E.receivedTotal(b, 2), "total on b:2"));

        List<E2E.Received> got = E2E.receivedAfter(b, 2, before, 1000);
        assertEquals(1000, got.size(), "messages on b:2 after " + before);
        List<String> data = got.stream().map(r -> E2E.normHex(r.data())).toList();
        List<String> expected = sent.stream().map(E2E::normHex).toList();
        for (int i = 0; i < expected.size(); i++) {
            int at = i;
            assertEquals(expected.get(i), data.get(i), () -> "message " + at + " on b:2 (sent " + expected.subList(
                    Math.max(0, at - 3), Math.min(expected.size(), at + 3)) + ", got " + data.subList(
                    Math.max(0, at - 3), Math.min(data.size(), at + 3)) + ")");
        }
        long lastSeq = before;
        for (E2E.Received r : got) {
            assertEquals(a.uuid(), r.sourceNode(), () -> "source_node of " + r);
            assertTrue(r.seq() > lastSeq, () -> "seq must grow: " + r);
            assertTrue(r.receivedAtUs() > 0, () -> "received_at_us of " + r);
            lastSeq = r.seq();
        }
    }
}
