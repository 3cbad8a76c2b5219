package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
