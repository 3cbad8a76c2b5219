package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

/**
 * One real {@code midimesh.jar} process on loopback, started as a separate JVM. stderr (the log) goes to
 * {@code <dir>/<name>.log} (appended across restarts), stdout is read on a daemon thread; {@link #start} returns once
 * the ready line was printed and parsed. The HTTP helpers talk to the node's API with {@link HttpClient}.
 */
public final class MidiMeshProcess implements AutoCloseable {

    /** The ready line of interface.md section 1. */
    static final Pattern READY = Pattern.compile(
            "midimesh ready name=(\\S+) uuid=([0-9a-fA-F-]{36}) http=(\\d+) udp=(\\d+) tcp=(\\d+) strategy=(\\S+)");

    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /** Every child still running, killed by a shutdown hook if the test JVM goes away first (no orphaned nodes). */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "e2e-kill-nodes"));
    }

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    /** What to start: the fixed arguments of the suite plus these. */
    public record Spec(String name, Path dataDir, Path logFile, int httpPort, int udpPort, int tcpPort,
            List<String> extraArgs) {

        public Spec {
            extraArgs = List.copyOf(extraArgs);
        }

        /** The same node again: same data dir, same log, the ports it had, the same extra arguments. */
        Spec samePorts(MidiMeshProcess running) {
            return new Spec(name, dataDir, logFile, running.httpPort(), running.udpPort(), running.tcpPort(),
                    extraArgs);
        }
    }

    /** An HTTP answer: status, the raw body, the body as JSON (MissingNode when it is not JSON) and content type. */
    public record Response(int status, String raw, JsonNode json, String contentType) {

        /** {@code json.path(field)}. */
        public JsonNode path(String field) {
            return json.path(field);
        }

        @Override
        public String toString() {
            return status + " " + contentType + " " + E2E.clip(raw, 2000);
        }
    }

    /** How a process ended: its exit code (-1 if it did not end in time) and how long the exit took. */
    public record Exit(boolean exited, int code, Duration took) {
    }

    private final Spec spec;
    private final Process process;
    private final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
    private final Thread stdoutReader;
    // Written once by the stdout reader thread, read by the test thread; volatile publishes the parsed line, and
    // readyAtNanos, written just before it.
    private volatile Matcher ready;
    // When the ready line was read (System.nanoTime()); published by the write of ready that follows it.
    private long readyAtNanos;
    // Set by the test thread before it signals the process; read when describing an exit.
    private volatile boolean signalled;

    private MidiMeshProcess(Spec spec, Process process) {
        this.spec = spec;
        this.process = process;
        this.stdoutReader = new Thread(this::readStdout, "e2e-stdout-" + spec.name());
        this.stdoutReader.setDaemon(true);
        this.stdoutReader.start();
    }

    /** The fixed command line of every node of this suite. */
    static List<String> command(Spec spec) {
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC", "-jar",
                E2E.jar().toString(),
                "--bind", "127.0.0.1",
                "--http-port", Integer.toString(spec.httpPort()),
                "--udp-port", Integer.toString(spec.udpPort()),
                "--tcp-port", Integer.toString(spec.tcpPort()),
                "--discovery", "none",
                "--name", spec.name(),
                "--data-dir", spec.dataDir().toString()));
        cmd.addAll(spec.extraArgs());
        return cmd;
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts the node and waits (up to 60 s) for its ready line; fails with the log tail if it dies or hangs. */
    public static MidiMeshProcess start(Spec spec) {
        return launch(spec).awaitReady();
    }

    /**
     * Starts the node and returns at once, before it is ready ({@link #awaitReady}); until then only its spec, stdout
     * and log are known, and {@link #httpPort} is the spec's (so a fixed port can be polled while the node starts).
     */
    public static MidiMeshProcess launch(Spec spec) {
        Path jar = E2E.jar();
        assertTrue(Files.isRegularFile(jar), "no " + jar + ": build the reactor first (./mvnw -B -o install -DskipTests)");
        List<String> cmd = command(spec);
        Process p;
        try {
            Files.createDirectories(spec.logFile().getParent());
            Files.writeString(spec.logFile(), "=== " + String.join(" ", cmd) + System.lineSeparator(),
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            // The working dir is the test's own dir: a node that ignored --data-dir must not write into the repo.
            p = new ProcessBuilder(cmd)
                    .directory(spec.logFile().getParent().toFile())
                    .redirectError(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()))
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        LIVE.add(p);
        p.onExit().thenRun(() -> LIVE.remove(p));
        return new MidiMeshProcess(spec, p);
    }

    /** Waits (up to 60 s) for the ready line; fails with the log tail, and kills the node, if it dies or hangs. */
    public MidiMeshProcess awaitReady() {
        try {
            E2E.await("ready line of " + spec.name(), READY_TIMEOUT)
                    .failFast("node " + spec.name() + " exited before it was ready", () -> ready == null
                            && !process.isAlive() && !stdoutReader.isAlive())
                    .until(() -> ready != null);
        } catch (ConditionTimeoutException | TerminalFailureException | AssertionError e) {
            String why = process.isAlive() ? "no ready line within " + READY_TIMEOUT.toSeconds() + " s"
                    : "exited with code " + process.exitValue() + " before the ready line";
            close();
            throw new AssertionError(spec.name() + ": " + why + "; stdout: " + stdout() + "\n" + logTail(60), e);
        }
        return this;
    }

    /** Whether the ready line was printed. */
    public boolean isReady() {
        return ready != null;
    }

    /** {@link System#nanoTime()} when the ready line was read; fails before that. */
    public long readyAtNanos() {
        assertTrue(ready != null, () -> spec.name() + " is not ready");
        return readyAtNanos;
    }

    private void readStdout() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                stdout.add(line);
                if (ready == null) {
                    Matcher m = READY.matcher(line);
                    if (m.matches()) {
                        readyAtNanos = System.nanoTime();
                        ready = m;
                    }
                }
            }
        } catch (IOException e) {
            // the process went away; what was read is kept
        }
    }

    // ---- identity ----

    public Spec spec() {
        return spec;
    }

    public String name() {
        return ready.group(1);
    }

    public String uuid() {
        return ready.group(2).toLowerCase(java.util.Locale.ROOT);
    }

    /** The HTTP port from the ready line; before it, the spec's (0 when the node picks one). */
    public int httpPort() {
        Matcher m = ready;
        return m == null ? spec.httpPort() : Integer.parseInt(m.group(3));
    }

    public int udpPort() {
        return Integer.parseInt(ready.group(4));
    }

    public int tcpPort() {
        return Integer.parseInt(ready.group(5));
    }

    public String strategy() {
        return ready.group(6);
    }

    public String readyLine() {
        return ready.group(0);
    }

    /** {@code 127.0.0.1:<http>}, the form {@code --peer} takes. */
    public String peerAddress() {
        return "127.0.0.1:" + httpPort();
    }

    /** Every stdout line so far. */
    public List<String> stdout() {
        synchronized (stdout) {
            return List.copyOf(stdout);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Writes {@code line} and a newline to the node's standard input (what a person types with {@code --shell}). */
    public void type(String line) {
        try {
            process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the standard input of " + spec.name(), e);
        }
    }

    /** Closes the node's standard input (end of input, as Ctrl-D on a terminal). */
    public void endInput() {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the standard input of " + spec.name(), e);
        }
    }

    public long pid() {
        return process.pid();
    }

    // ---- HTTP ----

    public Response getJson(String path) {
        return send(request(path).GET());
    }

    public Response postJson(String path, String body) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    public Response putJson(String path, String body) {
        return send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
    }

    public Response delete(String path) {
        return send(request(path).DELETE());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/json");
    }

    private Response send(HttpRequest.Builder builder) {
        HttpRequest req = builder.build();
        try {
            HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            JsonNode json;
            try {
                json = r.body() == null || r.body().isEmpty() ? MissingNode.getInstance()
                        : E2E.MAPPER.readTree(r.body());
            } catch (JsonProcessingException e) {
                json = MissingNode.getInstance();
            }
            return new Response(r.statusCode(), r.body(), json == null ? MissingNode.getInstance() : json,
                    r.headers().firstValue("Content-Type").orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException(req.method() + " " + req.uri() + " on " + spec.name() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during " + req.method() + " " + req.uri(), e);
        }
    }

    // ---- stopping ----

    /**
     * SIGKILL (Process.destroyForcibly on Linux). Returns {@link System#nanoTime()} taken just after the signal was
     * sent; the process is reaped later ({@link #awaitExit}).
     */
    public long sigkill() {
        signalled = true;
        process.destroyForcibly();
        return System.nanoTime();
    }

    /** SIGTERM (Process.destroy on Linux) and waits up to {@code limit} for the exit. */
    public Exit sigterm(Duration limit) {
        long t0 = System.nanoTime();
        signalled = true;
        process.destroy();
        return awaitExit(limit, t0);
    }

    /** Waits up to {@code limit} for the process to end; {@code since} is the nanoTime the duration counts from. */
    public Exit awaitExit(Duration limit, long since) {
        try {
            boolean exited = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - since);
            return new Exit(exited, exited ? process.exitValue() : -1, took);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + spec.name() + " to exit", e);
        }
    }

    /** Kills the process if it still runs and waits for it to go. */
    @Override
    public void close() {
        if (process.isAlive()) {
            signalled = true;
            process.destroyForcibly();
        }
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code lines} lines of this node's log, headed by its name. */
    public String logTail(int lines) {
        String state = process.isAlive() ? "running" : "exited " + process.exitValue()
                + (signalled ? "" : ", NOT stopped by this test: it ended on its own or was signalled from outside");
        return E2E.tail(spec.name() + " (pid " + process.pid() + ", " + state + ")", spec.logFile(), lines);
    }

    @Override
    public String toString() {
        return spec.name() + (ready == null ? "" : "[" + uuid() + " http=" + httpPort() + "]");
    }
}
