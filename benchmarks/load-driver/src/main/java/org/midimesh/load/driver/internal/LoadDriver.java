package org.midimesh.load.driver.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.midimesh.api.LocalNode;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load-test driver {@value #NAME}: an input {@code Load Gen} that sends numbered messages on a schedule, and an
 * output {@code Load Rec} that records when each arrives; the times go to files in {@code <data-dir>/loadtest/}.
 * Configuration PID {@value #PID}; see the module's README for the contract.
 * <p>Threads and locks: SCR's and ConfigAdmin's threads activate, modify and deactivate it; each of those takes
 * {@link #configLock} for the whole callback, so runs start, stop and are collected one at a time. Under it they
 * reset the recorder, start the generator thread, cancel and join the old one (which never takes this lock), and
 * write the {@code .received} file; they never call the sink, the port listeners, or anything else of MidiMesh. The
 * generator thread {@code midimesh-loadgen} calls the sink, without any lock, and writes its {@code .sent} file. The
 * output's delivery thread plays into the recorder (its own short lock). The device registry calls {@link #ports()}
 * and the listener methods from its threads; the port list never changes, so the listeners are kept but never called.
 */
@Component(immediate = true, service = MidiDriver.class, configurationPid = LoadDriver.PID,
        property = "driver=" + LoadDriver.NAME)
@Designate(ocd = LoadDriver.Config.class)
public final class LoadDriver implements MidiDriver {

    static final String NAME = "loadtest";
    static final String PID = "org.midimesh.loadtest";
    static final String THREAD_NAME = "midimesh-loadgen";

    private static final Logger LOG = LoggerFactory.getLogger(LoadDriver.class);
    private static final long STOP_TIMEOUT_MS = 2_000;

    /** Property names: DS turns {@code __} in a method name into {@code _}, so {@code burst__rate} is burst_rate. */
    @ObjectClassDefinition(name = "MidiMesh load test", description = "Instrument of the end-to-end load tool:"
            + " generates numbered messages on Load Gen and records their arrival on Load Rec.")
    public @interface Config {

        @AttributeDefinition(description = "Run id ([A-Za-z0-9_-]{1,64}); a new non-empty value starts a run.")
        String run() default "";

        @AttributeDefinition(description = "Whether this node generates the run's messages (the sending node).")
        boolean generate() default false;

        @AttributeDefinition(description = "Base stream: messages a second.")
        double rate() default LoadSettings.DEFAULT_RATE;

        @AttributeDefinition(description = "Base stream: how long, in seconds.")
        double seconds() default LoadSettings.DEFAULT_SECONDS;

        @AttributeDefinition(description = "Burst stream, centred in the base stream: messages a second (0: none).")
        double burst__rate() default 0;

        @AttributeDefinition(description = "Burst stream: how long, in seconds (0: none).")
        double burst__seconds() default 0;

        @AttributeDefinition(description = "The first message is due this many milliseconds after the run starts.")
        long lead__ms() default LoadSettings.DEFAULT_LEAD_MS;

        @AttributeDefinition(description = "When equal to the current run id, the recorder writes its file.")
        String collect() default "";
    }

    private final Path dir;
    private final LongSupplier nanoTime;
    private final Generator.Parker parker;
    private final Recorder recorder;
    private final LoadGenPort genPort = new LoadGenPort();
    private final List<MidiPort> ports;
    private final CopyOnWriteArrayList<PortListener> listeners = new CopyOnWriteArrayList<>();

    /** Taken by the configuration callbacks only (activate, modified, deactivate); see the class comment. */
    private final Object configLock = new Object();
    // The current run id ("" before the first): written and read under configLock only.
    private String currentRun = "";
    // The generation of the current run and its thread, or null: written and read under configLock only. The thread
    // itself gets the generator through its Runnable (Thread.start publishes it).
    private Generator generator;
    private Thread generatorThread;

    @Activate
    public LoadDriver(Config config, @Reference(name = "node") LocalNode node) {
        this(config, node.dataDir().resolve("loadtest"), new Recorder(), System::nanoTime, LockSupport::parkNanos);
    }

    /** For tests: the files' folder, the recorder, the clock and the parker. */
    LoadDriver(Config config, Path dir, Recorder recorder, LongSupplier nanoTime, Generator.Parker parker) {
        this.dir = dir;
        this.recorder = recorder;
        this.nanoTime = nanoTime;
        this.parker = parker;
        this.ports = List.of(genPort, new LoadRecPort(recorder, nanoTime));
        LOG.info("load-test driver activated; files go to {}", dir);
        // A run already named in the configuration at activation is one that happened before (or was cut short) in
        // an earlier instance of this driver: the bundle was updated or restarted. Starting it again would replay an
        // old schedule into whatever run comes next, so it is only remembered; a collect waits for a new run.
        LoadSettings s = read(config);
        synchronized (configLock) {
            currentRun = s.run();
        }
        if (!s.run().isEmpty()) {
            LOG.info("run {} is in the configuration from before this activation; not started again", s.run());
        }
    }

    @Modified
    void modified(Config config) {
        LoadSettings s = read(config);
        synchronized (configLock) {
            if (!s.run().isEmpty() && !s.run().equals(currentRun)) {
                String problem = LoadSettings.runIdProblem(s.run());
                if (problem == null) {
                    startRun(s);
                } else {
                    LOG.error("{}: {}; no run started", PID, problem);
                }
            }
            if (!s.collect().isEmpty()) {
                if (s.collect().equals(currentRun)) {
                    collect(currentRun);
                } else {
                    LOG.warn("{}: collect \"{}\" is not the current run \"{}\"; nothing written", PID, s.collect(),
                            currentRun);
                }
            }
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        listeners.clear();
        synchronized (configLock) {
            stopGenerator();
        }
        LOG.info("load-test driver deactivated");
    }

    private void startRun(LoadSettings s) { // under configLock
        stopGenerator();
        currentRun = s.run();
        // Room for every message of the run and an eighth more (duplicates across flips), so recording never grows.
        long expected = Schedule.baseCount(s) + Schedule.burstCount(s);
        recorder.reset(expected + expected / 8);
        try {
            RunFiles.writeStarted(dir, s.run()); // tells the load tool this node is ready for the run
        } catch (IOException e) {
            LOG.error("run {}: cannot write its .started file: {}", s.run(), e.toString());
        }
        if (!s.generate()) {
            LOG.info("run {}: recorder reset; this node does not generate", s.run());
            return;
        }
        long[] due;
        try {
            due = Schedule.offsets(s);
        } catch (IllegalArgumentException e) {
            LOG.error("run {} refused: {}", s.run(), e.getMessage());
            return;
        }
        long startNanos = nanoTime.getAsLong();
        Instant startInstant = Instant.now();
        long startEpochMicros = startInstant.getEpochSecond() * 1_000_000L + startInstant.getNano() / 1_000;
        long t0 = startNanos + TimeUnit.MILLISECONDS.toNanos(s.leadMs());
        for (int i = 0; i < due.length; i++) {
            due[i] += t0;
        }
        LOG.info("run {} started: rate {}/s for {} s, burst {}/s for {} s, {} messages from {} ms on", s.run(),
                s.rate(), s.seconds(), s.burstRate(), s.burstSeconds(), due.length, s.leadMs());
        Generator g = new Generator(due, genPort, nanoTime, parker, startNanos, startEpochMicros);
        String run = s.run();
        Thread t = new Thread(() -> generateAndWrite(run, g), THREAD_NAME);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((th, e) -> LOG.error("{} died", th.getName(), e));
        generator = g;
        generatorThread = t;
        t.start();
    }

    /** On the generator thread, without a lock. */
    private void generateAndWrite(String run, Generator g) {
        Generator.Result r = g.generate();
        if (r == null) {
            LOG.info("run {}: cancelled before its end (a new run, or the driver stopped); no .sent file", run);
            return;
        }
        int n = r.sentNanos().length;
        long lastLate = n == 0 ? 0 : r.sentNanos()[n - 1] - r.dueNanos()[n - 1];
        LOG.info("run {}: generation done, {} messages; the latest was {} µs late (message {}), the last {} µs;"
                        + " {} sent with no route, {} refused", run, n, r.maxLateNanos() / 1_000, r.maxLateSeq(),
                lastLate / 1_000, r.unsunk(), r.refused());
        write(() -> RunFiles.writeSent(dir, run, r.dueNanos(), r.sentNanos()), run, n);
    }

    private void collect(String run) { // under configLock
        Recorder.Snapshot s = recorder.snapshot();
        if (s.overflow() > 0) {
            LOG.warn("run {}: {} arrivals beyond the first {} were not kept", run, s.overflow(), s.count());
        }
        write(() -> RunFiles.writeReceived(dir, run, s), run, s.count());
    }

    /** Writes one file of a run. */
    @FunctionalInterface
    private interface FileWrite {
        Path write() throws IOException;
    }

    private static void write(FileWrite writer, String run, long count) {
        try {
            Path file = writer.write();
            LOG.info("run {}: wrote {} ({} records)", run, file, count);
        } catch (IOException e) {
            LOG.error("run {}: could not write its file", run, e);
        }
    }

    /** Cancels the generation in progress, if any, and waits for its thread a bounded time. Under configLock. */
    private void stopGenerator() {
        Generator g = generator;
        Thread t = generatorThread;
        generator = null;
        generatorThread = null;
        if (g == null) {
            return;
        }
        g.cancel();
        t.interrupt();
        try {
            t.join(STOP_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("{} did not end within {} ms", t.getName(), STOP_TIMEOUT_MS);
        }
    }

    /** The settings, each property that cannot be read as its type taken as its default (and logged). */
    private static LoadSettings read(Config c) {
        return new LoadSettings(get("run", c::run, ""), get("generate", c::generate, false),
                get("rate", c::rate, LoadSettings.DEFAULT_RATE),
                get("seconds", c::seconds, LoadSettings.DEFAULT_SECONDS), get("burst_rate", c::burst__rate, 0.0),
                get("burst_seconds", c::burst__seconds, 0.0),
                get("lead_ms", c::lead__ms, LoadSettings.DEFAULT_LEAD_MS), get("collect", c::collect, ""));
    }

    private static <T> T get(String key, Supplier<T> property, T fallback) {
        try {
            T value = property.get();
            return value == null ? fallback : value;
        } catch (RuntimeException e) { // SCR's conversion of a string that is not a number, for example
            LOG.warn("{}: {} cannot be read ({}); using {}", PID, key, e.toString(), fallback);
            return fallback;
        }
    }

    /** The thread of the current generation, or null. For tests. */
    Thread generatorThread() {
        synchronized (configLock) {
            return generatorThread;
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The two ports, always the same; never blocks. */
    @Override
    public List<MidiPort> ports() {
        return ports;
    }

    @Override
    public void addPortListener(PortListener listener) {
        listeners.addIfAbsent(listener);
    }

    @Override
    public void removePortListener(PortListener listener) {
        listeners.remove(listener);
    }
}
