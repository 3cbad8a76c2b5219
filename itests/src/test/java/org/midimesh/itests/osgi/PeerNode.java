package org.midimesh.itests.osgi;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A second node for tests inside the framework: the real {@code midimesh.jar} (system property {@code midimesh.jar},
 * set by failsafe) as a separate process on loopback, free ports, its own data dir, dialling the node in Felix. Its
 * stderr goes to a log file beside its data dir, shown on failure. Made and closed by one test thread.
 */
final class PeerNode implements AutoCloseable {

    private static final Pattern READY = Pattern.compile(
            "midimesh ready name=\\S+ uuid=(\\S+) http=(\\d+) udp=(\\d+) tcp=(\\d+) strategy=(\\S+)");
    private static final long READY_TIMEOUT_MS = 60_000;

    /** Every peer still running, killed by a shutdown hook if the test JVM ends first (no orphaned peers). */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "itest-kill-peers"));
    }

    private final Process process;
    private final Path log;
    private final String uuid;
    private final int httpPort;
    private final LoopbackHttp http;

    private PeerNode(Process process, Path log, String uuid, int httpPort) {
        this.process = process;
        this.log = log;
        this.uuid = uuid;
        this.httpPort = httpPort;
        this.http = new LoopbackHttp(httpPort);
    }

    /** Starts a peer named {@code name} with {@code --peer 127.0.0.1:<felixHttpPort>} and waits for its ready line. */
    static PeerNode start(String name, int felixHttpPort) throws IOException, InterruptedException {
        String jar = System.getProperty("midimesh.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("system property midimesh.jar does not name the distribution jar: " + jar);
        }
        Path base = MidiMeshOsgiOptions.stagedDir().getParent().resolve("osgi-peers");
        Files.createDirectories(base);
        Path dir = Files.createTempDirectory(base, name + "-");
        Path log = dir.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m", "-XX:+UseSerialGC", "-jar", jar, "--bind", MidiMeshOsgiOptions.LOOPBACK,
                "--http-port", "0", "--udp-port", "0", "--tcp-port", "0", "--discovery", "none", "--name", name,
                "--data-dir", dir.resolve("data").toString(), "--peer",
                MidiMeshOsgiOptions.LOOPBACK + ":" + felixHttpPort));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        LIVE.add(p);
        String[] ready = new String[1];
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (ready) {
                        if (ready[0] == null && READY.matcher(line).matches()) {
                            ready[0] = line;
                            ready.notifyAll();
                        }
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "itest-peer-stdout-" + name);
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        synchronized (ready) {
            while (ready[0] == null && p.isAlive() && System.nanoTime() < deadline) {
                ready.wait(100); // bounded: woken by the reader or every 100 ms to check the process
            }
        }
        if (ready[0] == null) {
            p.destroyForcibly();
            LIVE.remove(p);
            throw new AssertionError("peer " + name + " did not become ready; its log:\n" + tail(log));
        }
        Matcher m = READY.matcher(ready[0]);
        m.matches();
        return new PeerNode(p, log, m.group(1), Integer.parseInt(m.group(2)));
    }

    String uuid() {
        return uuid;
    }

    int httpPort() {
        return httpPort;
    }

    LoopbackHttp http() {
        return http;
    }

    /** How many messages the peer's output {@code device} has received in all. */
    long receivedTotal(int device) throws IOException {
        return http.get("/midi/devices/" + device + "/received?after=0&limit=1").json().path("total").asLong(-1);
    }

    /** The data of every message after {@code after} on output {@code device}, oldest first. */
    List<String> receivedAfter(int device, long after) throws IOException {
        List<String> out = new ArrayList<>();
        long cursor = after;
        while (true) {
            JsonNode page = http.get("/midi/devices/" + device + "/received?after=" + cursor + "&limit=10000").json();
            JsonNode messages = page.path("messages");
            if (messages.isEmpty()) {
                return out;
            }
            messages.forEach(m -> out.add(m.path("data").asText()));
            cursor = page.path("next").asLong();
        }
    }

    /** The peer's view of {@code node} in its /network/mesh, or "absent". */
    String stateOf(String node) throws IOException {
        for (JsonNode n : http.get("/network/mesh").json().path("nodes")) {
            if (node.equalsIgnoreCase(n.path("uuid").asText())) {
                return n.path("state").asText();
            }
        }
        return "absent";
    }

    String logTail() {
        return tail(log);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } catch (UncheckedIOException e) {
            process.destroyForcibly();
        } finally {
            LIVE.remove(process);
        }
    }
}
