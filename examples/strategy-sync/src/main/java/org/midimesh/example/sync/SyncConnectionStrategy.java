package org.midimesh.example.sync;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code sync} connection strategy: makes {@link SyncConnectionEngine}s, one lock per connection. Thread-safe.
 * <p>Threads it owns, created in the constructor and stopped in {@link #deactivate()} with a bounded wait:
 * <ul>
 * <li>{@code midimesh-sync-events}: delivers every event of every engine to its {@link EngineEvents}, in order per
 * engine, never under a lock; also runs the barrier tasks of {@code beginHandover};</li>
 * <li>{@code midimesh-sync-connect}: runs the blocking outbound handshakes, one at a time;</li>
 * <li>{@code midimesh-sync-hog}: only while fault injection is configured (a test fixture, off by default).</li>
 * </ul>
 * <p>Metrics: {@link #metrics()} sums the open engines now and the final counters of every engine closed or handed over
 * since activation. {@link #registryLock} makes registering an engine atomic with the stopped check, and moving an
 * engine's counters into {@link #retired} atomic with summing them, so each engine counts exactly once. It guards a
 * set and some arithmetic only: no engine lock is ever taken under it, and nothing is called.
 */
@Component(service = ConnectionStrategy.class, immediate = true, configurationPid = SyncConnectionStrategy.PID,
        property = ConnectionStrategy.STRATEGY_PROPERTY + "=" + SyncConnectionStrategy.NAME)
@Designate(ocd = SyncConnectionStrategy.Config.class)
public final class SyncConnectionStrategy implements ConnectionStrategy {

    public static final String NAME = "sync";
    public static final String PID = "org.midimesh.example.sync";
    static final long DEFAULT_LOCK_TIMEOUT_MS = 100;
    static final long DEFAULT_HANDOVER_TIMEOUT_MS = 2000;
    static final long DEFAULT_HOLD_EVERY_MS = 10;
    /** Upper bound of the two injected busy-waits, so a typo cannot freeze a thread for minutes. */
    static final long MAX_INJECTED_MICROS = 1_000_000;
    static final int MAX_INJECTED_ERRORS_PER_SECOND = 10_000;
    /** Bounded wait for each thread to end on deactivation. */
    static final long STOP_TIMEOUT_MS = 2000;

    private static final Logger LOG = LoggerFactory.getLogger(SyncConnectionStrategy.class);

    @ObjectClassDefinition(id = PID, name = "MidiMesh example strategy: sync",
            description = "Connections guarded by one lock each; events delivered on one event thread. The inject "
                    + "settings are a TEST FIXTURE for the canary policy's tests: leave them at 0 in production.")
    public @interface Config {

        @AttributeDefinition(name = "Lock timeout (ms)", min = "1",
                description = "Bounded wait for an engine lock after a failed try: a query then answers from the "
                        + "last snapshot, a command logs the holder and waits another round; each counts a stall")
        long lock_timeout_ms() default DEFAULT_LOCK_TIMEOUT_MS;

        @AttributeDefinition(name = "Handover timeout (ms)", min = "1",
                description = "How long beginHandover (hot swap) waits for the events raised before it to be "
                        + "delivered; when it runs out the handover is refused and the connection goes on")
        long handover_timeout_ms() default DEFAULT_HANDOVER_TIMEOUT_MS;

        @AttributeDefinition(name = "Test fixture: lock hold (us)", min = "0", max = "1000000",
                description = "TEST FIXTURE, 0 = off. Every 'lock hold period' the thread midimesh-sync-hog holds "
                        + "the lock of each open connection this long, busy: real contention for queries then")
        long inject_lock_hold_us() default 0;

        @AttributeDefinition(name = "Test fixture: lock hold period (ms)", min = "1",
                description = "TEST FIXTURE. How often midimesh-sync-hog holds the locks and raises injected errors")
        long inject_hold_every_ms() default DEFAULT_HOLD_EVERY_MS;

        @AttributeDefinition(name = "Test fixture: query delay (us)", min = "0", max = "1000000",
                description = "TEST FIXTURE, 0 = off. Every query busy-waits this long, holding nothing: a query "
                        + "latency regression")
        long inject_query_delay_us() default 0;

        @AttributeDefinition(name = "Test fixture: errors per second", min = "0", max = "10000",
                description = "TEST FIXTURE, 0 = off. Error events raised per second on each CONNECTED connection "
                        + "(by midimesh-sync-hog), counted as errors")
        int inject_errors_per_second() default 0;
    }

    /** The configuration, checked once. Immutable. */
    record Settings(long lockTimeoutMs, long handoverTimeoutMs, long lockHoldMicros, long holdEveryMs,
            long queryDelayMicros, int errorsPerSecond) {

        static Settings of(Config c) {
            return new Settings(atLeast("lock.timeout.ms", c.lock_timeout_ms(), 1, DEFAULT_LOCK_TIMEOUT_MS),
                    atLeast("handover.timeout.ms", c.handover_timeout_ms(), 1, DEFAULT_HANDOVER_TIMEOUT_MS),
                    within("inject.lock.hold.us", c.inject_lock_hold_us(), MAX_INJECTED_MICROS),
                    atLeast("inject.hold.every.ms", c.inject_hold_every_ms(), 1, DEFAULT_HOLD_EVERY_MS),
                    within("inject.query.delay.us", c.inject_query_delay_us(), MAX_INJECTED_MICROS),
                    (int) within("inject.errors.per.second", c.inject_errors_per_second(),
                            MAX_INJECTED_ERRORS_PER_SECOND));
        }

        /** Whether the hog thread has work: holding locks or raising errors. */
        boolean hogNeeded() {
            return lockHoldMicros > 0 || errorsPerSecond > 0;
        }

        boolean injecting() {
            return hogNeeded() || queryDelayMicros > 0;
        }

        private static long atLeast(String key, long v, long min, long dflt) {
            if (v < min) {
                LOG.warn("{} must be at least {}, not {}; using {}", key, min, v, dflt);
                return dflt;
            }
            return v;
        }

        private static long within(String key, long v, long max) {
            if (v < 0 || v > max) {
                LOG.warn("{} must be 0..{}, not {}; using 0 (off)", key, max, v);
                return 0;
            }
            return v;
        }
    }

    /** Counters of one engine, or a sum of them. Immutable. */
    record Totals(long queries, long contentions, long callbacks, long errors, long dropped, long stalls) {

        static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0);

        Totals plus(Totals o) {
            return new Totals(queries + o.queries, contentions + o.contentions, callbacks + o.callbacks,
                    errors + o.errors, dropped + o.dropped, stalls + o.stalls);
        }

        /** No command queue: commandsProcessed and queueDepth are 0. */
        ConnectionMetrics toMetrics(ConnectionMetrics.LatencySummary latency) {
            return new ConnectionMetrics(NAME, queries, contentions, callbacks, 0, 0, latency, errors, dropped,
                    stalls);
        }
    }

    private final ExecutorService events;
    private final ExecutorService connects;
    // Written by the event thread's factory before the thread starts; read by engines (beginHandover refuses to run on
    // it, and logs its stack when it waits for it in vain). Publishes nothing else.
    private volatile Thread eventThread;
    // Written by the SCR thread (constructor, modified); read by engines and the hog on any thread, once per operation.
    // The volatile write publishes the immutable record.
    private volatile Settings settings;
    // SCR thread only (constructor, modified, deactivate; SCR never runs them concurrently): the running hog, or null.
    private Thread hog;

    // Open engines made or adopted here. Added to and removed from under registryLock; iterated without it (the hog,
    // weakly consistent) and under it (metrics).
    private final Set<SyncConnectionEngine> open = ConcurrentHashMap.newKeySet();
    private final ReentrantLock registryLock = new ReentrantLock();
    // Guarded by registryLock: the final counters of the engines closed or handed over so far.
    private Totals retired = Totals.ZERO;
    // Guarded by registryLock: set once by deactivate.
    private boolean stopped;
    private final LatencySamples latency = new LatencySamples();

    @Activate
    public SyncConnectionStrategy(Config config) {
        this.settings = Settings.of(config);
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = newThread("midimesh-sync-events", r);
            eventThread = t;
            return t;
        });
        this.connects = Executors.newSingleThreadExecutor(r -> newThread("midimesh-sync-connect", r));
        startOrStopHog();
        LOG.info("sync strategy activated, lock timeout {} ms, handover timeout {} ms{}", settings.lockTimeoutMs(),
                settings.handoverTimeoutMs(), faultsText(settings));
    }

    @Modified
    void modified(Config config) {
        settings = Settings.of(config);
        startOrStopHog();
        LOG.info("sync strategy reconfigured, lock timeout {} ms, handover timeout {} ms{}", settings.lockTimeoutMs(),
                settings.handoverTimeoutMs(), faultsText(settings));
    }

    /**
     * Closes every open engine that is ACTIVE (one handing over belongs to the swap and is left alone), then stops the
     * threads, waiting at most {@value #STOP_TIMEOUT_MS} ms for each. Idempotent.
     */
    @Deactivate
    void deactivate() {
        List<SyncConnectionEngine> toClose;
        registryLock.lock();
        try {
            if (stopped) {
                return;
            }
            stopped = true;
            toClose = List.copyOf(open);
        } finally {
            registryLock.unlock();
        }
        stopHog();
        for (SyncConnectionEngine e : toClose) {
            try {
                e.closeForShutdown();
            } catch (RuntimeException ex) {
                LOG.error("closing {} failed", e, ex);
            }
        }
        connects.shutdownNow(); // interrupts a handshake in flight: its result is ignored (closed or handing over)
        events.shutdown(); // the events already queued (the DISCONNECTED of each close) are delivered first
        boolean inTime = awaitStop(connects, "midimesh-sync-connect") & awaitStop(events, "midimesh-sync-events");
        LOG.info("sync strategy deactivated, {} open engines closed unless handing over{}", toClose.size(),
                inTime ? "" : "; a thread did not stop in time");
    }

    @Override
    public String name() {
        return NAME;
    }

    /** @throws IllegalStateException when deactivated */
    @Override
    public ConnectionEngine create(ConnectionContext context, EngineEvents events) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(events, "events");
        SyncConnectionEngine e = new SyncConnectionEngine(this, context, events, null);
        register(e);
        return e;
    }

    /** @throws IllegalStateException when deactivated */
    @Override
    public ConnectionEngine adopt(Handover handover, EngineEvents events) {
        Objects.requireNonNull(handover, "handover");
        Objects.requireNonNull(events, "events");
        SyncConnectionEngine e = new SyncConnectionEngine(this, handover.context(), events, handover);
        register(e);
        e.start(handover.queuedFrames());
        return e;
    }

    /** Totals since activation: the open engines now, the closed and handed-over ones as they ended. */
    @Override
    public ConnectionMetrics metrics() {
        ConnectionMetrics.LatencySummary l = latency.summary(); // before the counters, as in the engine
        Totals sum;
        registryLock.lock();
        try {
            sum = retired;
            for (SyncConnectionEngine e : open) {
                sum = sum.plus(e.totals());
            }
        } finally {
            registryLock.unlock();
        }
        return sum.toMetrics(l);
    }

    @Override
    public String toString() {
        return "sync strategy";
    }

    // ==== for the engines ============================================================================================

    private void register(SyncConnectionEngine e) {
        registryLock.lock();
        try {
            if (stopped) {
                throw new IllegalStateException("the sync strategy is stopped");
            }
            open.add(e);
        } finally {
            registryLock.unlock();
        }
    }

    /** An engine closed or handed over: its counters go into the totals, once. */
    void retire(SyncConnectionEngine e) {
        registryLock.lock();
        try {
            if (open.remove(e)) {
                retired = retired.plus(e.totals());
            }
        } finally {
            registryLock.unlock();
        }
    }

    /** The event thread, to queue deliveries and barriers on. */
    Executor eventExecutor() {
        return events;
    }

    /** The connect thread, to queue handshakes on. */
    Executor connectExecutor() {
        return connects;
    }

    boolean isEventThread(Thread t) {
        return t == eventThread;
    }

    /** The event thread's stack, for a log line. */
    String eventThreadStack() {
        Thread t = eventThread;
        return t == null ? "" : "; midimesh-sync-events is at:" + SyncConnectionEngine.stackOf(t);
    }

    long lockTimeoutMs() {
        return settings.lockTimeoutMs();
    }

    long handoverTimeoutMs() {
        return settings.handoverTimeoutMs();
    }

    LatencySamples latency() {
        return latency;
    }

    /** Test fixture: the configured query delay, busy, holding nothing. */
    void injectQueryDelay() {
        long micros = settings.queryDelayMicros();
        if (micros > 0) {
            busyWait(TimeUnit.MICROSECONDS.toNanos(micros));
        }
    }

    static void busyWait(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    // ==== fault injection (test fixture) =============================================================================

    /** SCR thread only. Runs the hog exactly while the settings need it and the strategy runs. */
    private void startOrStopHog() {
        boolean needed = settings.hogNeeded() && !isStopped();
        if (needed && hog == null) {
            hog = newThread("midimesh-sync-hog", this::runHog);
            hog.start();
        } else if (!needed && hog != null) {
            stopHog();
        }
    }

    /** SCR thread only. */
    private void stopHog() {
        Thread t = hog;
        hog = null;
        if (t == null) {
            return;
        }
        t.interrupt();
        try {
            t.join(STOP_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.error("thread midimesh-sync-hog did not stop within {} ms", STOP_TIMEOUT_MS);
        }
    }

    /**
     * The hog's loop, until interrupted: every {@code inject.hold.every.ms} it holds each open engine's lock for
     * {@code inject.lock.hold.us} and raises the errors due since the last round on each CONNECTED engine.
     */
    private void runHog() {
        double errorsDue = 0;
        long last = System.nanoTime();
        while (!Thread.currentThread().isInterrupted()) {
            Settings s = settings;
            long now = System.nanoTime();
            errorsDue = Math.min(errorsDue + s.errorsPerSecond() * (now - last) / 1e9, s.errorsPerSecond());
            last = now;
            int errorsNow = (int) errorsDue;
            errorsDue -= errorsNow;
            for (SyncConnectionEngine e : open) {
                try {
                    if (s.lockHoldMicros() > 0) {
                        e.holdLock(s.lockHoldMicros());
                    }
                    if (errorsNow > 0) {
                        e.raiseInjectedErrors(errorsNow);
                    }
                } catch (RuntimeException ex) { // one engine must not end the fixture for the others
                    LOG.error("fault injection failed on {}", e, ex);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(s.holdEveryMs())); // paced; returns on interrupt
        }
    }

    private static String faultsText(Settings s) {
        if (!s.injecting()) {
            return "";
        }
        return String.format(Locale.ROOT, ", FAULT INJECTION ON (test fixture): lock hold %d us every %d ms, query "
                + "delay %d us, %d errors/s", s.lockHoldMicros(), s.holdEveryMs(), s.queryDelayMicros(),
                s.errorsPerSecond());
    }

    // ==== lifecycle helpers ==========================================================================================

    private boolean isStopped() {
        registryLock.lock();
        try {
            return stopped;
        } finally {
            registryLock.unlock();
        }
    }

    /** Our threads: named, daemon (they never keep the JVM alive), an uncaught exception logged at ERROR. */
    private static Thread newThread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((th, e) -> LOG.error("thread {} ended by an uncaught exception", th.getName(),
                e));
        return t;
    }

    private static boolean awaitStop(ExecutorService executor, String thread) {
        try {
            if (executor.awaitTermination(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                return true;
            }
            executor.shutdownNow();
            LOG.error("thread {} did not stop within {} ms", thread, STOP_TIMEOUT_MS);
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** For tests: whether every thread of this strategy has ended. */
    boolean threadsStopped() {
        return events.isTerminated() && connects.isTerminated() && hog == null;
    }

    /** For tests: whether the hog thread runs. */
    boolean hogRunning() {
        Thread t = hog;
        return t != null && t.isAlive();
    }
}
