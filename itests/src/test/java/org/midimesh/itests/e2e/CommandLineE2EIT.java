package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/** The command line of interface.md section 1: bad values, a busy port, --help, --version. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CommandLineE2EIT {

    /** A finished run of the jar. */
    private record Run(int code, String stdout, String stderr, Path dataDir) {

        List<String> stderrLines() {
            return Arrays.stream(stderr.split("\\R")).filter(l -> !l.isBlank())
                    .filter(l -> !l.startsWith("Picked up ")) // JVM notes about JAVA_TOOL_OPTIONS and the like
                    .toList();
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + E2E.clip(stdout, 4000) + "\n--- stderr ---\n"
                    + E2E.clip(stderr, 4000);
        }
    }

    private Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    /** Runs the jar with the suite's base options except those in {@code args}, expecting it to end in the limit. */
    private Run run(TestInfo info, Duration limit, String... args) throws IOException, InterruptedException {
        Cluster dirs = new Cluster(CommandLineE2EIT.class, info.getTestMethod().orElseThrow().getName());
        Path dataDir = dirs.dir().resolve("data");
        Path out = dirs.dir().resolve("stdout.txt");
        Path err = dirs.dir().resolve("stderr.txt");
        List<String> cmd = new ArrayList<>(List.of(MidiMeshProcess.javaBinary(), "-Xmx128m", "-jar",
                E2E.jar().toString()));
        cmd.addAll(Arrays.asList(args));
        cmd.replaceAll(s -> s.equals("@DATA") ? dataDir.toString() : s);
        assertTrue(Files.isRegularFile(E2E.jar()), "no " + E2E.jar() + ": build the reactor first");
        process = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean ended = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        if (!ended) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        Run run = new Run(ended ? process.exitValue() : -1, E2E.read(out), E2E.read(err), dataDir);
        assertTrue(ended, () -> String.join(" ", cmd) + " did not end within " + limit.toSeconds() + " s; " + run);
        return run;
    }

    @Test
    void nonNumericPortExits2WithAOneLineReasonAndUsage(TestInfo info) throws Exception {
        Run r = run(info, Duration.ofSeconds(10), "--bind", "127.0.0.1", "--http-port", "abc", "--udp-port", "0",
                "--tcp-port", "0", "--discovery", "none", "--name", "bad", "--data-dir", "@DATA");
        assertEquals(2, r.code(), r::toString);
        assertEquals("", r.stdout(), () -> "nothing on stdout: " + r);
        List<String> lines = r.stderrLines();
        assertTrue(lines.size() >= 2, () -> "a reason and usage on stderr: " + r);
        assertTrue(lines.get(1).startsWith("usage:"), () -> "exactly one line of reason, then usage: " + r);
        assertFalse(lines.get(0).startsWith("usage:"), () -> "the reason comes first: " + r);
        assertTrue(lines.get(0).contains("http-port"), () -> "the reason names the option: " + r);
        assertFalse(r.stderr().contains("Exception") || r.stderr().contains("\tat "), () -> "no stack trace: " + r);
        assertFalse(Files.exists(r.dataDir()), () -> "nothing started: no data dir " + r.dataDir());
    }

    @Test
    void portInUseExits1NamingThePort(TestInfo info) throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            String port = Integer.toString(busy.getLocalPort());
            Run r = run(info, Duration.ofSeconds(30), "--bind", "127.0.0.1", "--http-port", port, "--udp-port", "0",
                    "--tcp-port", "0", "--discovery", "none", "--name", "busy", "--data-dir", "@DATA");
            assertEquals(1, r.code(), r::toString);
            assertFalse(r.stdout().contains("midimesh ready"), () -> "no ready line: " + r);
            assertTrue(r.stderr().matches("(?s).*\\b" + port + "\\b.*"), () -> "stderr names port " + port + ": " + r);
            assertFalse(r.stderr().contains("\tat "), () -> "no stack trace: " + r);
        }
    }

    @Test
    void helpExits0WithUsageOnStdout(TestInfo info) throws Exception {
        Run r = run(info, Duration.ofSeconds(10), "--help");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.stdout().contains("usage:"), () -> "usage on stdout: " + r);
        assertTrue(r.stdout().contains("--peer") && r.stdout().contains("--http-port"), () -> "options listed: " + r);
        assertFalse(r.stdout().contains("midimesh ready"), () -> "nothing started: " + r);
    }

    @Test
    void versionExits0(TestInfo info) throws Exception {
        Run r = run(info, Duration.ofSeconds(10), "--version");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.stdout().strip().matches("(?i)midimesh\\s+\\S+"), () -> "version on stdout: " + r);
    }
}
