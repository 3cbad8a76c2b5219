package org.midimesh.node.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.NodeId;

@Timeout(10)
class NodeIdentityStoreTest {

    @TempDir
    Path dir;

    @Test
    void shouldKeepTheSameIdAcrossRestarts() throws Exception {
        NodeId first = NodeIdentityStore.loadOrCreate(dir, null);
        NodeId second = NodeIdentityStore.loadOrCreate(dir, null);
        assertEquals(first, second);
        assertEquals(first.toString(), Files.readString(dir.resolve("node-id")).trim());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file is left behind");
        }
    }

    @Test
    void shouldUseAFixedIdAndStoreItWhenNoneIsStored() throws Exception {
        NodeId fixed = NodeId.parse("550e8400e29b41d4a716446655440000");
        assertEquals(fixed, NodeIdentityStore.loadOrCreate(dir, fixed));
        assertEquals(fixed, NodeIdentityStore.loadOrCreate(dir, null));
    }

    @Test
    void shouldMoveAnInvalidFileAsideInsteadOfOverwritingIt() throws Exception {
        Files.writeString(dir.resolve("node-id"), "garbage");
        NodeId id = NodeIdentityStore.loadOrCreate(dir, null);
        assertNotEquals(null, id);
        try (var files = Files.list(dir)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("node-id.invalid-")));
        }
    }

    @Test
    void shouldTypeTheCommandLineOptions() {
        Map<String, String> fw = Map.of("midimesh.config.data_dir", "/tmp/x", "midimesh.config.http_port", "7000",
                "midimesh.config.peers", "127.0.0.1:1,127.0.0.1:2", "midimesh.config.name", "n");
        Hashtable<String, Object> d = (Hashtable<String, Object>) CommandLineConfiguration
                .fromFrameworkProperties(fw::get);
        assertEquals(7000, d.get("http.port"));
        assertEquals("/tmp/x", d.get("data.dir"), "DS maps data_dir() to the property data.dir");
        assertEquals("n", d.get("name"));
        assertEquals(2, ((String[]) d.get("peers")).length);
        assertEquals(null, CommandLineConfiguration.fromFrameworkProperties(k -> null));
    }
}
