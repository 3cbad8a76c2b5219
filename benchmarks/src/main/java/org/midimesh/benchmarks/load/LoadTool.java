package org.midimesh.benchmarks.load;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The end-to-end load tool: MIDI from one node's input to other nodes' outputs, timed on real processes.
 * <p>By default it launches the nodes itself ({@code midimesh.jar}, loopback, free ports): the receivers, then the
 * sender with each receiver as {@code --peer}. It deploys the load driver plugin into every node's {@code deploy/},
 * routes the sender's {@code Load Gen} input (or, in http mode, its virtual input 1) to each receiver's
 * {@code Load Rec} output, runs each strategy asked for, and stops the nodes. The plugin stamps every message with
 * {@code System.nanoTime()} when the sender's input hands it over and when a receiver's output plays it; both processes
 * share that clock. Progress goes to stderr once a second; the report to stdout, with {@code --json} as one object on
 * the last line.
 * <p>Exit codes: 0 done, 1 the run failed (a node died, a step timed out), 2 bad options.
 */
public final class LoadTool {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    /** Requests the tool sends to warm its own HTTP client before an http-mode run. */
    static final int HTTP_WARM_UP = 2_000;

    private final LoadOptions o;
    private final PrintStream out;
    private final PrintStream err;
    private final List<Node> nodes = new ArrayList<>();
    private Node sender;
    private final List<Node> receivers = new ArrayList<>();
    private final List<Integer> recIds = new ArrayList<>();
    /** The routes this tool made on the sender, removed when it ends: a running node is left as it was found. */
    private final List<String> routeIds = new ArrayList<>();
    private int sourceId;

    private LoadTool(LoadOptions o, PrintStream out, PrintStream err) {
        this.o = o;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (List.of(args).contains("--help")) {
            out.print(LoadOptions.USAGE);
            return 0;
        }
        LoadOptions o;
        try {
            o = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("midimesh-load: " + e.getMessage() + " (--help for usage)");
            return 2;
        }
        LoadTool tool = new LoadTool(o, out, err);
        try {
            List<RunResult> results = tool.runAll();
            tool.report(results);
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("midimesh-load: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("midimesh-load: interrupted");
            return 1;
        } finally {
            tool.stopNodes();
        }
    }

    private List<RunResult> runAll() throws IOException, InterruptedException {
        setUp();
        List<RunResult> results = new ArrayList<>();
        for (String strategy : o.strategies()) {
            results.add(runOnce(strategy));
        }
        return results;
    }

    // ---- nodes ----

    private void setUp() throws IOException, InterruptedException {
        Path plugin = plugin();
        if (o.sender() != null) {
            sender = Node.attach(o.sender(), o.senderData());
            for (int i = 0; i < o.receivers().size(); i++) {
                receivers.add(Node.attach(o.receivers().get(i), o.receiverData().get(i)));
            }
        } else {
            Path work = o.workDir() != null ? o.workDir() : Files.createTempDirectory("midimesh-load-");
            Files.createDirectories(work);
            err.println("[load] nodes keep their data and logs in " + work);
            List<String> strategy = o.strategies().get(0).isEmpty() ? List.of()
                    : List.of("--strategy", o.strategies().get(0));
            List<String> peers = new ArrayList<>(strategy);
            for (int i = 0; i < o.peers(); i++) {
                Node r = track(Node.launch(o.jar(), "load-rx" + (i + 1), work, strategy));
                receivers.add(r);
                peers.add("--peer");
                peers.add(r.base.substring("http://".length()));
            }
            sender = track(Node.launch(o.jar(), "load-tx", work, peers));
        }
        for (Node n : all()) {
            n.deploy(plugin);
        }
        sourceId = o.mode().equals("http") ? 1
                : await("the sender lists the load driver's input", 30, () -> sender.localDevice("loadtest",
                        "Load Gen"));
        for (Node r : receivers) {
            int id = await(r + " lists the load driver's output", 30, () -> r.localDevice("loadtest", "Load Rec"));
            recIds.add(id);
            await("the sender lists " + r + "'s output", 30,
                    () -> sender.listsRemote(r, id) ? Optional.of(id) : Optional.empty());
            JsonNode route = sender.post("/routing/routes", Map.of("source", Map.of("node_id", "local",
                    "device_id", sourceId), "destination", Map.of("node_id", r.uuid, "device_id", id)), 201);
            routeIds.add(route.path("route_id").asText());
        }
        err.println("[load] " + sender + " -> " + receivers + ", mode " + o.mode());
    }

    private Node track(Node n) {
        nodes.add(n);
        return n;
    }

    private List<Node> all() {
        List<Node> l = new ArrayList<>();
        l.add(sender);
        l.addAll(receivers);
        return l;
    }

    private void stopNodes() {
        if (sender != null && !sender.launched()) {
            for (String id : routeIds) {
                try {
                    sender.delete("/routing/routes/" + id);
                } catch (IOException e) {
                    err.println("midimesh-load: could not remove its route " + id + " from " + sender + ": "
                            + e.getMessage());
                }
            }
        }
        for (Node n : nodes) {
            n.close();
        }
    }

    /** The load driver bundle: --plugin, or the copy packed into this jar. */
    private Path plugin() throws IOException {
        if (o.plugin() != null) {
            if (!Files.isRegularFile(o.plugin())) {
                throw new IOException("--plugin " + o.plugin() + " is not a file");
            }
            return o.plugin();
        }
        try (InputStream in = LoadTool.class.getResourceAsStream("/load/midimesh-load-driver.jar")) {
            if (in == null) {
                throw new IOException("this jar carries no load driver; give --plugin");
            }
            Path tmp = Files.createTempFile("midimesh-load-driver", ".jar");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }

    // ---- one run ----

    private RunResult runOnce(String strategy) throws IOException, InterruptedException {
        if (!strategy.isEmpty()) {
            for (Node n : all()) {
                n.put("/strategy", Map.of("default", strategy));
            }
        }
        String shown = strategy.isEmpty() ? sender.get("/strategy").path("default").asText("?") : strategy;
        String run = "r" + System.currentTimeMillis() + "-" + (shown.isEmpty() ? "default" : shown);
        for (Node r : receivers) {
            r.configure("run=" + run + "\ngenerate=false\n");
        }
        for (Node r : receivers) { // FileInstall reads etc/ every second; each recorder says when it was reset
            Path started = r.resultFile(run, "started");
            await(r + " starts run " + run, 30, () -> Files.isRegularFile(started) ? Optional.of(1) : Optional.empty());
        }
        Map<String, Double> cpuBefore = cpu();
        Map<String, Long> dropsBefore = drops();
        Flipper flipper = o.flipEveryMs() > 0 ? Flipper.start(all(), shown, o.flipEveryMs(), err) : null;
        RunResult.Schedule schedule;
        try {
            if (o.mode().equals("http")) {
                schedule = sendOverHttp();
            } else {
                sender.configure(String.format(Locale.ROOT, "run=%s%ngenerate=true%nrate=%s%nseconds=%s%nburst_rate=%s"
                        + "%nburst_seconds=%s%nlead_ms=1000%n", run, o.rate(), o.seconds(), o.burstRate(),
                        o.burstSeconds()));
                progressUntil(System.nanoTime() + (long) ((o.seconds() + 1.6) * SECOND));
                Path sent = sender.resultFile(run, "sent");
                await("the sender writes " + sent, 60, () -> Files.isRegularFile(sent) ? Optional.of(1)
                        : Optional.empty());
                schedule = RunResult.readSent(sent);
            }
        } finally {
            if (flipper != null) {
                flipper.stop();
            }
        }
        settle();
        for (Node r : receivers) {
            r.configure("run=" + run + "\ngenerate=false\ncollect=" + run + "\n");
        }
        List<RunResult.Arrivals> arrivals = new ArrayList<>();
        for (Node r : receivers) {
            Path file = r.resultFile(run, "received");
            await(r + " writes " + file, 30, () -> Files.isRegularFile(file) ? Optional.of(1) : Optional.empty());
            arrivals.add(RunResult.readReceived(file));
        }
        Map<String, Double> cpu = new LinkedHashMap<>();
        cpu().forEach((name, after) -> cpu.put(name, Math.round((after - cpuBefore.getOrDefault(name, 0.0)) * 100)
                / 100.0));
        Map<String, Long> drops = drops();
        dropsBefore.forEach((k, v) -> drops.merge(k, -v, Long::sum));
        RunResult result = RunResult.of(shown, o.rate(), o.seconds(), schedule, arrivals, cpu, drops);
        if (flipper != null) {
            err.println("[load] " + flipper.flips() + " strategy flips during the run");
        }
        return result;
    }

    /**
     * Http mode: one POST of {@code chord} messages per instant into the sender's virtual input, on one kept-alive
     * connection of a blocking client ({@link Node#exchange}). Each body is made (JSON bytes) before its instant, and
     * the send time is taken just before the request goes, so only the request itself is timed. The client is warmed
     * first ({@link #HTTP_WARM_UP} reads of {@code /health}), so its JIT does not add to the node's figures.
     */
    private RunResult.Schedule sendOverHttp() throws IOException, InterruptedException {
        for (int i = 0; i < HTTP_WARM_UP; i++) {
            int status = sender.exchange("GET", "/health", null);
            if (status != 200) {
                throw new IOException("GET /health of " + sender + " answered " + status);
            }
        }
        String path = "/midi/devices/" + sourceId + "/send";
        long[] due = schedule(System.nanoTime() + SECOND / 2);
        long[] sent = new long[due.length];
        long nextProgress = System.nanoTime() + SECOND;
        long started = System.nanoTime();
        for (int i = 0; i < due.length; i += o.chord()) {
            int end = Math.min(due.length, i + o.chord());
            List<String> chord = new ArrayList<>(end - i);
            for (int k = i; k < end; k++) {
                chord.add(LoadCodec.hex(k));
            }
            byte[] body = Node.JSON.writeValueAsBytes(Map.of("messages", chord));
            parkUntil(due[i]);
            long now = System.nanoTime();
            for (int k = i; k < end; k++) {
                due[k] = due[i];
                sent[k] = now;
            }
            int status = sender.exchange("POST", path, body);
            if (status != 202) {
                throw new IOException("POST " + path + " of " + sender + " answered " + status);
            }
            if (System.nanoTime() >= nextProgress) {
                progress(started);
                nextProgress += SECOND;
            }
        }
        return new RunResult.Schedule(due, sent);
    }

    /** The due times of the steady stream and the burst, merged (the load driver's schedule, for http mode). */
    long[] schedule(long t0) {
        int base = (int) Math.round(o.rate() * o.seconds());
        int burst = o.burstRate() > 0 ? (int) Math.round(o.burstRate() * o.burstSeconds()) : 0;
        long[] due = new long[base + burst];
        long burstStart = t0 + (long) ((o.seconds() - o.burstSeconds()) / 2 * SECOND);
        int b = 0;
        int s = 0;
        for (int i = 0; i < due.length; i++) {
            long nextBase = b < base ? t0 + (long) (b * (SECOND / o.rate())) : Long.MAX_VALUE;
            long nextBurst = s < burst ? burstStart + (long) (s * (SECOND / o.burstRate())) : Long.MAX_VALUE;
            if (nextBase <= nextBurst) {
                due[i] = nextBase;
                b++;
            } else {
                due[i] = nextBurst;
                s++;
            }
        }
        return due;
    }

    private void progressUntil(long end) throws IOException, InterruptedException {
        long started = System.nanoTime();
        long next = started + SECOND;
        while (System.nanoTime() < end) {
            parkUntil(Math.min(next, end));
            checkAlive();
            if (System.nanoTime() >= next) {
                progress(started);
                next += SECOND;
            }
        }
    }

    private void progress(long started) throws IOException {
        long out = sender.get("/network/stats").path("total").path("datagrams_out").asLong();
        long in = 0;
        long dropped = 0;
        for (Node r : receivers) {
            JsonNode t = r.get("/network/stats").path("total");
            in += t.path("datagrams_in").asLong();
            dropped += t.path("realtime_drops").asLong();
        }
        err.printf(Locale.ROOT, "[load] %2d s: sender datagrams out %d, receivers datagrams in %d, realtime drops %d%n",
                (System.nanoTime() - started) / SECOND, out, in, dropped);
    }

    /** Waits until the receivers' datagram counts stop moving for 500 ms (at most 10 s). */
    private void settle() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10 * SECOND;
        long last = -1;
        long stableSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            checkAlive();
            long in = 0;
            for (Node r : receivers) {
                in += r.get("/network/stats").path("total").path("datagrams_in").asLong();
            }
            if (in != last) {
                last = in;
                stableSince = System.nanoTime();
            } else if (System.nanoTime() - stableSince >= SECOND / 2) {
                return;
            }
            pause(100);
        }
    }

    /**
     * Drops counted inside the nodes so far: the receivers' Load Rec queues, every node's transport (datagrams that
     * never came), and every node's connections (a full send queue refuses a frame).
     */
    private Map<String, Long> drops() throws IOException {
        long output = 0;
        for (int i = 0; i < receivers.size(); i++) {
            for (JsonNode d : receivers.get(i).get("/midi/devices").path("devices")) {
                if (d.path("is_local").asBoolean() && d.path("id").asInt() == recIds.get(i)) {
                    output += d.path("dropped").asLong();
                }
            }
        }
        long realtime = 0;
        for (Node n : all()) {
            realtime += n.get("/network/stats").path("total").path("realtime_drops").asLong();
        }
        long connection = 0;
        for (Node n : all()) {
            connection += n.get("/debug/metrics").path("dropped_messages").asLong();
        }
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("output_dropped", output);
        m.put("realtime_drops", realtime);
        m.put("connection_dropped", connection);
        return m;
    }

    private Map<String, Double> cpu() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Node n : all()) {
            n.cpuSeconds().ifPresent(c -> m.put(n.name, c));
        }
        return m;
    }

    private void checkAlive() throws IOException {
        for (Node n : all()) {
            if (!n.alive()) {
                throw new IOException(n + " died during the run; the others are stopped");
            }
        }
    }

    interface Probe<T> {
        Optional<T> get() throws IOException;
    }

    private <T> T await(String what, int seconds, Probe<T> probe) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + seconds * SECOND;
        IOException last = null;
        while (System.nanoTime() < deadline) {
            checkAlive();
            try {
                Optional<T> v = probe.get();
                if (v.isPresent()) {
                    return v.get();
                }
            } catch (IOException e) {
                last = e;
            }
            pause(100);
        }
        throw new IOException(what + ": not within " + seconds + " s" + (last == null ? "" : " (" + last.getMessage()
                + ")"));
    }

    private static void pause(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }

    private static void parkUntil(long deadline) throws InterruptedException {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    // ---- report ----

    private void report(List<RunResult> results) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-14s", "strategy"));
        for (RunResult r : results) {
            sb.append(String.format(Locale.ROOT, "%14s", r.strategy()));
        }
        sb.append('\n');
        row(sb, "sent", results, r -> Long.toString(r.sent()));
        row(sb, "received", results, r -> Long.toString(r.received()));
        row(sb, "lost", results, r -> Long.toString(r.lost()));
        row(sb, "duplicated", results, r -> Long.toString(r.duplicated()));
        row(sb, "reordered", results, r -> Long.toString(r.reordered()));
        row(sb, "p50 us", results, r -> fmt(r.us(50)));
        row(sb, "p90 us", results, r -> fmt(r.us(90)));
        row(sb, "p99 us", results, r -> fmt(r.us(99)));
        row(sb, "p99.9 us", results, r -> fmt(r.us(99.9)));
        row(sb, "max us", results, r -> fmt(r.maxUs()));
        row(sb, "jitter us", results, r -> fmt(r.jitterUs()));
        row(sb, "latency sd us", results, r -> fmt(r.latencySdUs()));
        row(sb, "send late p99", results, r -> fmt(r.sendLate().getValueAtPercentile(99) / 1_000.0));
        row(sb, "output drops", results, r -> Long.toString(r.drops().getOrDefault("output_dropped", 0L)));
        row(sb, "realtime drops", results, r -> Long.toString(r.drops().getOrDefault("realtime_drops", 0L)));
        row(sb, "conn. drops", results, r -> Long.toString(r.drops().getOrDefault("connection_dropped", 0L)));
        row(sb, "cpu s", results, r -> r.cpuSeconds().isEmpty() ? "-" : fmt(r.cpuTotal()));
        out.printf(Locale.ROOT, "midimesh-load: %s mode, %.0f msg/s for %.0f s%s, %d receiver(s)%s%n", o.mode(),
                o.rate(), o.seconds(), o.burstRate() > 0 ? String.format(Locale.ROOT, " + burst %.0f msg/s for %.1f s",
                        o.burstRate(), o.burstSeconds()) : "", receivers.size(),
                o.flipEveryMs() > 0 ? ", strategy flipped every " + o.flipEveryMs() + " ms" : "");
        out.print(sb);
        if (o.json()) {
            Object last = results.size() == 1 ? results.get(0).json()
                    : Map.of("strategy", "both", "runs", results.stream().map(RunResult::json).toList());
            out.println(Node.JSON.writeValueAsString(last));
        }
    }

    private static void row(StringBuilder sb, String label, List<RunResult> results,
            java.util.function.Function<RunResult, String> cell) {
        sb.append(String.format(Locale.ROOT, "%-14s", label));
        for (RunResult r : results) {
            sb.append(String.format(Locale.ROOT, "%14s", cell.apply(r)));
        }
        sb.append('\n');
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** Flips every node's default strategy between the two, on its own thread, during a run. */
    static final class Flipper {
        private final Thread thread;
        // Incremented by the flip thread, read by the main thread after stop(): a count only.
        private final AtomicLong flips = new AtomicLong();
        // Set by the main thread to end the flip thread; read by it each round.
        private volatile boolean stopped;

        private Flipper(List<Node> nodes, String first, long everyMs, PrintStream err) {
            this.thread = new Thread(() -> {
                String current = first.equals("seda") ? "seda" : "mutex";
                while (!stopped) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(everyMs));
                    if (stopped) {
                        break;
                    }
                    current = current.equals("mutex") ? "seda" : "mutex";
                    for (Node n : nodes) {
                        try {
                            n.put("/strategy", Map.of("default", current));
                        } catch (IOException e) {
                            err.println("[load] flip on " + n + " failed: " + e.getMessage());
                        }
                    }
                    flips.incrementAndGet();
                }
            }, "midimesh-load-flip");
            thread.setDaemon(true);
        }

        static Flipper start(List<Node> nodes, String first, long everyMs, PrintStream err) {
            Flipper f = new Flipper(nodes, first, everyMs, err);
            f.thread.start();
            return f;
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.interrupt();
            thread.join(30_000);
        }

        long flips() {
            return flips.get();
        }
    }
}
