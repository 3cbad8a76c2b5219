package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Plugins through {@code <data-dir>/deploy/} of running {@code midimesh.jar} processes, as an operator deploys them:
 * node A with the plugins, node B its peer (started with {@code --peer A}). One pair serves the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PluginDeployE2EIT {

    private Cluster cluster;
    private MidiMeshProcess a;
    private MidiMeshProcess b;

    @BeforeAll
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void startPair() {
        cluster = new Cluster(PluginDeployE2EIT.class);
        a = cluster.start("plug-a");
        b = cluster.start("plug-b", "--peer", a.peerAddress());
    }

    @AfterAll
    void stopPair() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Path deployDir(MidiMeshProcess node) {
        return node.spec().dataDir().resolve("deploy");
    }

    /**
     * A bundle whose import nothing exports: the log names the missing package, /health says degraded with it, the node
     * keeps serving; deleting the file makes it healthy again.
     */
    @Test
    void aBundleThatDoesNotResolveIsReportedAndTheNodeKeepsRunning() throws IOException {
        Path jar = deployDir(a).resolve("broken-plugin.jar");
        Path staged = cluster.dir().resolve("broken-plugin.jar");
        writeBundle(staged, "com.example.broken", "org.nowhere.missing;version=\"[1.0,2)\"");
        Files.move(staged, jar);
        E2E.await("a reports the bundle that does not resolve", Duration.ofSeconds(10)).untilAsserted(() -> {
            MidiMeshProcess.Response h = a.getJson("/health");
            assertEquals(200, h.status(), h::toString);
            assertEquals("degraded", h.path("status").asText(), h::toString);
            assertEquals("degraded", h.path("checks").path("plugins").asText(), h::toString);
            JsonNode p = h.path("problems").path(0);
            assertEquals("com.example.broken 1.0.0", p.path("bundle").asText(), h::toString);
            assertEquals("missing package org.nowhere.missing (version >= 1.0.0, < 2.0.0)", p.path("reason").asText(),
                    h::toString);
        });
        String log = E2E.read(a.spec().logFile());
        assertTrue(log.contains("bundle com.example.broken 1.0.0 (") && log.contains("broken-plugin.jar) does not"
                + " resolve: missing package org.nowhere.missing"), "the log names the bundle, its file and the package");
        assertEquals(200, a.getJson("/midi/devices").status(), "the node keeps serving");
        Files.delete(jar);
        E2E.await("a is healthy again", Duration.ofSeconds(10)).untilAsserted(() -> {
            MidiMeshProcess.Response h = a.getJson("/health");
            assertEquals("up", h.path("status").asText(), h::toString);
        });
    }

    /**
     * The clock driver plugin copied into A's deploy/: its input appears at A within 2 s of the copy being picked up and
     * at B within 2 s of that; a route from it to B's output carries clock at the configured 120 BPM (48 a second).
     * Deleting the file takes the device away at both nodes and leaves the routes orphaned (at A, which owns the route,
     * and at B, whose route names A's clock); copying it back restores the same device id and the clock flows again.
     * Replacing the file updates the bundle in place: same id, clock still flowing.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aDriverDeployedIntoARunningNodeReachesThePeerAndLeavesOrphanedRoutesWhenRemoved() throws IOException {
        Path plugin = Path.of(System.getProperty("itest.clock.bundle", "missing: set itest.clock.bundle"));
        assertTrue(Files.isRegularFile(plugin), () -> "the clock driver plugin is built: " + plugin);
        Path deployed = deployDir(a).resolve("clock-driver.jar");

        deploy(plugin, deployed);
        int clock = awaitLocalDevice(a, "clock", "Clock", Duration.ofSeconds(4));
        E2E.await("b lists a's clock within 2 s", Duration.ofSeconds(2), E2E.FAST_POLL).until(
                () -> remoteDevice(b, a, clock) != null);

        MidiMeshProcess.Response onA = a.postJson("/routing/routes", E2E.routeBody("local", clock, b.uuid(), 2));
        assertEquals(201, onA.status(), () -> "route a:clock -> b:2 on a: " + onA);
        String routeA = onA.path("route_id").asText();
        // B's own route from A's clock, to an output of its own (not b:2, which a's route feeds).
        MidiMeshProcess.Response port = b.postJson("/midi/virtual-ports", "{\"name\": \"b clock\", \"type\": \"output\"}");
        assertEquals(201, port.status(), () -> "virtual output on b: " + port);
        MidiMeshProcess.Response onB = b.postJson("/routing/routes",
                E2E.routeBody(a.uuid(), clock, "local", port.path("id").asInt()));
        assertEquals(201, onB.status(), () -> "route a:clock -> b:clock on b: " + onB);
        String routeB = onB.path("route_id").asText();
        assertClockRate(b, 48);

        Files.delete(deployed);
        E2E.await("a drops the clock", Duration.ofSeconds(4), E2E.FAST_POLL).until(
                () -> localDevice(a, "clock", "Clock") == null);
        E2E.await("b drops a's clock within 2 s", Duration.ofSeconds(2), E2E.FAST_POLL).until(
                () -> remoteDevice(b, a, clock) == null);
        JsonNode orphanA = a.getJson("/routing/routes/" + routeA).json();
        assertTrue(orphanA.path("orphaned").asBoolean(), () -> "a keeps its route, orphaned: " + orphanA);
        assertEquals("source: this node has no device " + clock + " (now)", orphanA.path("orphaned_reason").asText());
        E2E.await("b shows its route orphaned", Duration.ofSeconds(2)).untilAsserted(() -> {
            JsonNode r = b.getJson("/routing/routes/" + routeB).json();
            assertTrue(r.path("orphaned").asBoolean(), () -> "b keeps its route, orphaned: " + r);
            assertEquals("source: node " + a.uuid() + " has no device " + clock + " (now)",
                    r.path("orphaned_reason").asText());
        });

        deploy(plugin, deployed);
        assertEquals(clock, awaitLocalDevice(a, "clock", "Clock", Duration.ofSeconds(4)), "the same device id");
        E2E.await("b lists a's clock again", Duration.ofSeconds(2), E2E.FAST_POLL).until(
                () -> remoteDevice(b, a, clock) != null);
        assertFalse(a.getJson("/routing/routes/" + routeA).json().path("orphaned").asBoolean(true));
        assertFalse(b.getJson("/routing/routes/" + routeB).json().path("orphaned").asBoolean(true));
        assertClockRate(b, 48);

        deploy(plugin, deployed); // replaces the file: FileInstall updates the bundle in place
        E2E.await("the clock is back after the update", Duration.ofSeconds(6)).untilAsserted(() -> assertEquals(
                (Integer) clock, localDevice(a, "clock", "Clock")));
        assertClockRate(b, 48);
        Files.delete(deployed);
    }

    /** Copies the plugin next to the target and moves it in, so FileInstall never sees a half-written jar. */
    private void deploy(Path plugin, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path staged = cluster.dir().resolve(target.getFileName() + ".staged");
        Files.copy(plugin, staged, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(staged, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        Files.move(staged, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static int awaitLocalDevice(MidiMeshProcess node, String driver, String name, Duration within) {
        E2E.await(node + " lists " + driver + " " + name, within, E2E.FAST_POLL).until(
                () -> localDevice(node, driver, name) != null);
        return localDevice(node, driver, name);
    }

    /** The id of the local device of that driver and name, or null. */
    private static Integer localDevice(MidiMeshProcess node, String driver, String name) {
        for (JsonNode d : node.getJson("/midi/devices").path("devices")) {
            if (d.path("is_local").asBoolean() && driver.equals(d.path("driver").asText())
                    && name.equals(d.path("name").asText())) {
                return d.path("id").asInt();
            }
        }
        return null;
    }

    private static JsonNode remoteDevice(MidiMeshProcess observer, MidiMeshProcess owner, int id) {
        for (JsonNode d : observer.getJson("/midi/devices").path("devices")) {
            if (!d.path("is_local").asBoolean(true) && owner.uuid().equalsIgnoreCase(d.path("owner_node").asText())
                    && d.path("id").asInt() == id) {
                return d;
            }
        }
        return null;
    }

    /**
     * Clock ticks reach {@code node}'s device 2 at {@code perSecond} (within 20 %): the rate of 2 s of ticks as the node
     * stamped them when its output played them.
     */
    private static void assertClockRate(MidiMeshProcess node, int perSecond) {
        int ticks = 2 * perSecond;
        long from = E2E.receivedTotal(node, 2);
        E2E.await(ticks + " more clock messages at " + node, Duration.ofSeconds(10)).until(
                () -> E2E.receivedTotal(node, 2) >= from + ticks + 2);
        List<E2E.Received> clock = E2E.receivedAfter(node, 2, from, 1000).stream()
                .filter(r -> E2E.normHex(r.data()).equals("f8")).limit(ticks + 1L).toList();
        assertEquals(ticks + 1, clock.size(), () -> "timing clock (f8) messages among " + clock);
        double seconds = (clock.get(ticks).receivedAtUs() - clock.get(0).receivedAtUs()) / 1e6;
        double rate = ticks / seconds;
        assertTrue(Math.abs(rate - perSecond) <= perSecond * 0.2,
                () -> "clock at " + rate + " a second on " + node + ", expected " + perSecond + " ± 20 %");
    }

    /** A bundle with nothing in it but a manifest. */
    static void writeBundle(Path jar, String symbolicName, String importPackage) throws IOException {
        Manifest m = new Manifest();
        Attributes main = m.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", symbolicName);
        main.putValue("Bundle-Version", "1.0.0");
        main.putValue("Import-Package", importPackage);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.flush();
        }
    }
}
