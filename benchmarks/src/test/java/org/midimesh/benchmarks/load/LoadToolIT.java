package org.midimesh.benchmarks.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The load tool as CI runs it, so it keeps working: the packaged {@code midimesh-load.jar} as its own process, two
 * {@code midimesh.jar} nodes it launches itself, a short run at a modest rate in each mode. Figures are not asserted
 * (they are measured and published in docs/benchmarks.md); that the run completes, and that nothing is lost at this
 * rate on loopback, is.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class LoadToolIT {

    private static JsonNode run(String... args) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("load.jar", "target/midimesh-load.jar"));
        Path node = Path.of(System.getProperty("midimesh.jar", "../distribution/target/midimesh.jar"));
        assertTrue(Files.isRegularFile(jar), "the tool is packaged: " + jar);
        assertTrue(Files.isRegularFile(node), "the node is packaged: " + node);
        Path work = Files.createTempDirectory(Path.of("target"), "load-it-");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar.toString(), "--jar", node.toString(), "--work-dir", work.toString(), "--json"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(work.resolve("tool.err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the tool ends");
        String err = Files.readString(work.resolve("tool.err"));
        assertEquals(0, p.exitValue(), () -> "exit code; stdout:\n" + out + "\nstderr:\n" + err);
        assertTrue(err.contains(" 1 s: sender datagrams out"), () -> "a progress line each second: " + err);
        List<String> lines = out.lines().toList();
        return new ObjectMapper().readTree(lines.get(lines.size() - 1));
    }

    @Test
    void aShortDriverRunDeliversEverythingAndReportsItsFigures() throws Exception {
        JsonNode r = run("--rate", "500", "--seconds", "2");
        assertEquals(1000, r.path("sent").asLong(), r::toString);
        assertEquals(1000, r.path("received").asLong(), r::toString);
        assertEquals(0, r.path("lost").asLong(), r::toString);
        assertEquals(0, r.path("duplicated").asLong(), r::toString);
        assertTrue(r.path("latency_us").path("p50").asDouble() > 0, r::toString);
        assertTrue(r.path("cpu_s").asDouble() > 0, r::toString);
    }

    @Test
    void aShortHttpRunDeliversEverything() throws Exception {
        JsonNode r = run("--mode", "http", "--rate", "200", "--seconds", "2", "--chord", "2");
        assertEquals(400, r.path("sent").asLong(), r::toString);
        assertEquals(0, r.path("lost").asLong(), r::toString);
    }
}
