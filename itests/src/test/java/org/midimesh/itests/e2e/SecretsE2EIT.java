package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node's secrets stay its own: the admin token given on the command line reaches no log line, no HTTP answer, and
 * no file that another user of the machine can read.
 */
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SecretsE2EIT {

    private static final String TOKEN = "e2e-admin-token-7f3a9c";

    private Cluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theAdminTokenStaysOutOfLogsAnswersAndFilesOthersCanRead() throws IOException {
        cluster = new Cluster(SecretsE2EIT.class);
        MidiMeshProcess n = cluster.start("e2e-secrets", "--admin-token", TOKEN);
        Path data = n.spec().dataDir();
        assumeTrue(Files.getFileAttributeView(data, PosixFileAttributeView.class) != null, "POSIX permissions");

        // The token is in force (so the node really has it somewhere).
        assertEquals(401, n.postJson("/routing/routes", "{}").status());

        for (String path : List.of("/node/info", "/health", "/network/mesh", "/network/stats", "/strategy",
                "/midi/devices", "/routing/routes")) {
            assertFalse(n.getJson(path).raw().contains(TOKEN), path);
        }
        // The log file starts with the test's own copy of the command line; the node's lines come after it.
        List<String> log = Files.readAllLines(n.spec().logFile());
        assertTrue(log.stream().skip(1).noneMatch(l -> l.contains(TOKEN)), "a log line shows the token");

        Path cache = data.resolve("cache");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
        byte[] token = TOKEN.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(data)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (contains(Files.readAllBytes(f), token)) {
                    assertTrue(f.startsWith(cache), "the token is in " + data.relativize(f) + ", outside cache/");
                }
            }
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
