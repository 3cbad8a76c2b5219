package org.midimesh.benchmarks.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One MidiMesh node the tool drives: a {@code midimesh.jar} process it launched (and stops), or a running node it was
 * pointed at. Talks to it over HTTP on loopback (keep-alive) and through its data dir (deploy/, etc/, loadtest/).
 * Used by the tool's main thread; {@link #post} may also be called by the flip thread (HttpClient is thread-safe).
 */
final class Node implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("^midimesh ready name=(\\S+) uuid=(\\S+) http=(\\d+) .*");
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    final String name;
    final String base;
    final Path dataDir;
    final String uuid;
    private final Process process;

    private Node(String name, String base, Path dataDir, String uuid, Process process) {
        this.name = name;
        this.base = base;
        this.dataDir = dataDir;
        this.uuid = uuid;
        this.process = process;
    }

    /** Launches {@code jar} on free loopback ports and waits up to 60 s for its ready line. */
    static Node launch(Path jar, String name, Path workDir, List<String> extra) throws IOException {
        Path data = workDir.resolve(name + "-data");
        Path log = workDir.resolve(name + ".log");
        Files.createDirectories(data);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toAbsolutePath().toString(), "--name", name, "--data-dir", data.toString(), "--bind",
                "127.0.0.1", "--http-port", "0", "--udp-port", "0", "--tcp-port", "0", "--discovery", "none"));
        cmd.addAll(extra);
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = r.readLine()) != null) {
                    if (READY.matcher(line).matches()) {
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String line;
        try {
            line = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException(name + " did not print its ready line within 60 s (log: " + log + ")", e);
        }
        if (line == null) {
            throw new IOException(name + " ended before it was ready (log: " + log + ")");
        }
        Matcher m = READY.matcher(line);
        if (!m.matches()) {
            throw new IOException("unexpected ready line " + line);
        }
        return new Node(name, "http://127.0.0.1:" + m.group(3), data, m.group(2), p);
    }

    /** A node that runs already; its data dir must be readable and writable here. */
    static Node attach(String url, Path dataDir) throws IOException {
        String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        JsonNode info = get(base, "/node/info");
        return new Node(info.path("name").asText(), base, dataDir, info.path("uuid").asText(), null);
    }

    boolean launched() {
        return process != null;
    }

    boolean alive() {
        return process == null || process.isAlive();
    }

    /** CPU time the process used so far, in seconds; empty for a node this tool did not launch. */
    Optional<Double> cpuSeconds() {
        if (process == null) {
            return Optional.empty();
        }
        return process.toHandle().info().totalCpuDuration().map(d -> d.toNanos() / 1e9);
    }

    JsonNode get(String path) throws IOException {
        return get(base, path);
    }

    private static JsonNode get(String base, String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                200);
    }

    /**
     * One request on the JDK's blocking client ({@code HttpURLConnection}, kept alive between calls): the timed
     * requests of http mode. It runs on the calling thread alone; the asynchronous {@code HttpClient} used elsewhere
     * hands each request to its own threads, which on this 2-core machine doubled the median of a POST and tripled its
     * p99 (docs/benchmarks.md). {@code body} null for a GET. Returns the status; the answer is read whole, so the
     * connection is kept for the next call.
     */
    int exchange(String method, String path, byte[] body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(base + path).toURL().openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(10_000);
        c.setRequestMethod(method);
        if (body != null) {
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/json");
            // No streaming mode: the client then sends head and body in one write. Streamed, the body went in a
            // second TCP segment, which Nagle's algorithm held until the first was acknowledged (2 ms at the median).
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
        }
        int status = c.getResponseCode();
        try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
            if (in != null) {
                in.readAllBytes();
            }
        }
        return status;
    }

    JsonNode post(String path, Object body, int expected) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build(), expected);
    }

    JsonNode put(String path, Object body) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build(), 200);
    }

    void delete(String path) throws IOException {
        send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).DELETE().build(), 200);
    }

    private static JsonNode send(HttpRequest request, int expected) throws IOException {
        HttpResponse<String> r;
        try {
            r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (r.statusCode() != expected) {
            throw new IOException(request.method() + " " + request.uri() + " answered " + r.statusCode() + ": "
                    + r.body());
        }
        return r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
    }

    /** The id of this node's own device of that driver, name and type, if it lists one. */
    Optional<Integer> localDevice(String driver, String deviceName) throws IOException {
        for (JsonNode d : get("/midi/devices").path("devices")) {
            if (d.path("is_local").asBoolean() && driver.equals(d.path("driver").asText())
                    && deviceName.equals(d.path("name").asText())) {
                return Optional.of(d.path("id").asInt());
            }
        }
        return Optional.empty();
    }

    /** Whether this node lists {@code owner}'s device {@code id}. */
    boolean listsRemote(Node owner, int id) throws IOException {
        for (JsonNode d : get("/midi/devices").path("devices")) {
            if (!d.path("is_local").asBoolean(true) && owner.uuid.equalsIgnoreCase(d.path("owner_node").asText())
                    && d.path("id").asInt() == id) {
                return true;
            }
        }
        return false;
    }

    /**
     * Copies the plugin into deploy/ the way an operator should: next to it first, then moved in at once. When the
     * same bytes are there already (a running node the tool used before) it leaves them: a new copy would make
     * FileInstall update the bundle, restarting the driver in the middle of the tool's setup.
     */
    void deploy(Path plugin) throws IOException {
        Path deploy = dataDir.resolve("deploy");
        Files.createDirectories(deploy);
        Path target = deploy.resolve("midimesh-load-driver.jar");
        if (Files.isRegularFile(target) && Files.mismatch(plugin, target) == -1) {
            return;
        }
        Path staged = dataDir.resolve("midimesh-load-driver.jar.staged");
        Files.copy(plugin, staged, StandardCopyOption.REPLACE_EXISTING);
        Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes the load driver's configuration file into etc/, atomically (FileInstall picks it up). */
    void configure(String properties) throws IOException {
        Path etc = dataDir.resolve("etc");
        Files.createDirectories(etc);
        Path tmp = etc.resolve("org.midimesh.loadtest.cfg.tmp");
        Files.writeString(tmp, properties, StandardCharsets.UTF_8);
        Files.move(tmp, etc.resolve("org.midimesh.loadtest.cfg"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    Path resultFile(String run, String kind) {
        return dataDir.resolve("loadtest").resolve(run + "." + kind);
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    @Override
    public String toString() {
        return name + " (" + base + ")";
    }
}
