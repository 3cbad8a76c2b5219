package org.midimesh.connection.seda.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.common.metrics.QueryMeter;
import org.midimesh.common.NamedThreadFactory;
import org.midimesh.common.Warmups;
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
 * The SEDA connection strategy (workplan Approach B): makes {@link SedaConnectionEngine}s for the strategy manager.
 * Thread-safe.
 * <p>Owns three stages shared by all its engines, created in the constructor and stopped in {@link #deactivate()}:
 * <ul>
 * <li>the worker stage {@code midimesh-seda-<n>} ({@code worker.threads}, default 2): every engine's mailbox drains
 * here, one engine on one thread at a time, so 1,000 connections need no more than these threads;</li>
 * <li>the handshake executor {@code midimesh-seda-handshake-<n>} ({@code handshake.threads}): the blocking HTTP
 * handshakes, so no worker ever blocks on the network;</li>
 * <li>the notification stage {@code midimesh-seda-notify} (one thread): every event delivery to the manager.</li>
 * </ul>
 * A send that finds its connection idle does not wait for the worker stage: its caller runs it ({@code send.on.caller},
 * on by default; {@link SedaConnectionEngine#send}).
 */
@Component(service = ConnectionStrategy.class, immediate = true, configurationPid = SedaConnectionStrategy.PID,
        property = ConnectionStrategy.STRATEGY_PROPERTY + "=" + SedaConnectionStrategy.NAME)
@Designate(ocd = SedaConnectionStrategy.Config.class)
public final class SedaConnectionStrategy implements ConnectionStrategy, Warmable {

    public static final String PID = "org.midimesh.connection.seda";
    /** The strategy's name: its {@code strategy} service property and {@code ConnectionMetrics.strategy}. */
    public static final String NAME = "seda";
    static final int DEFAULT_WORKER_THREADS = 2;
    /**
     * Frames one connection queues before {@code send} refuses more. 1,024 (20 ms at 50,000 messages a second) lost
     * 1 to 30 % of a 50,000-a-second load run on 2 cores whenever the stage fell behind for a moment; 16,384 lost
     * none (docs/benchmarks.md, end to end).
     */
    static final int DEFAULT_QUEUE_CAPACITY = 16_384;
    static final long DEFAULT_QUERY_TIMEOUT_MS = 1000;
    static final long DEFAULT_SHUTDOWN_TIMEOUT_MS = 2000;
    static final int DEFAULT_HANDSHAKE_THREADS = 2;
    /**
     * On: the hot path of the workplan's risk table ("command latency breaks real-time requirements"). End to end at
     * 10,000 messages a second, six alternating pairs: p99 0.24 to 0.73 ms on, 1.2 to 2.1 ms off (every send handed
     * to a worker); p50 15 against 38 µs (docs/benchmarks.md, "Seda's hot path").
     */
    static final boolean DEFAULT_SEND_ON_CALLER = true;
    static final int MAX_THREADS = 64;
    static final int MAX_QUEUE_CAPACITY = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(SedaConnectionStrategy.class);

    @ObjectClassDefinition(id = PID, name = "MidiMesh SEDA connection strategy",
            description = "Connections whose state is owned by one worker at a time, fed through a bounded command "
                    + "queue (workplan Approach B)")
    public @interface Config {

        @AttributeDefinition(name = "Worker threads", min = "1", max = "64",
                description = "Threads of the shared worker stage (midimesh-seda-<n>) on which every connection's "
                        + "commands run, one connection on one thread at a time")
        int worker_threads() default DEFAULT_WORKER_THREADS;

        @AttributeDefinition(name = "Queue capacity (frames)", min = "1", max = "1048576",
                description = "MIDI frames one connection queues before send() refuses more; control commands have "
                        + "a reserve of the same size on top. Applies to connections made after a change")
        int queue_capacity() default DEFAULT_QUEUE_CAPACITY;

        @AttributeDefinition(name = "Query timeout (ms)", min = "1",
                description = "Longest wait for the worker: queries that go through it (inspect), and each step of a "
                        + "handover (handshake in flight, reaching the barrier, earlier callbacks)")
        long query_timeout_ms() default DEFAULT_QUERY_TIMEOUT_MS;

        @AttributeDefinition(name = "Shutdown timeout (ms)", min = "1",
                description = "Longest wait on deactivation for the connections to close and the threads to stop")
        long shutdown_timeout_ms() default DEFAULT_SHUTDOWN_TIMEOUT_MS;

        @AttributeDefinition(name = "Handshake threads", min = "1", max = "64",
                description = "Threads running the blocking outbound HTTP handshakes (midimesh-seda-handshake-<n>)")
        int handshake_threads() default DEFAULT_HANDSHAKE_THREADS;

        @AttributeDefinition(name = "Send on the caller's thread when idle",
                description = "A send that finds its connection idle (nothing queued, nothing running) runs at once on "
                        + "the calling thread, which owns the connection meanwhile, instead of waking a worker: one "
                        + "thread hand-off less per message. Off: every send waits for a worker. Applies at once")
        boolean send_on_caller() default DEFAULT_SEND_ON_CALLER;
    }

    /** The validated configuration; replaced whole. */
    record Settings(int workerThreads, int queueCapacity, long queryTimeoutMs, long shutdownTimeoutMs,
            int handshakeThreads, boolean sendOnCaller) {

        /** These settings with {@code sendOnCaller} replaced. */
        Settings withSendOnCaller(boolean on) {
            return new Settings(workerThreads, queueCapacity, queryTimeoutMs, shutdownTimeoutMs, handshakeThreads, on);
        }
    }

    private final ThreadPoolExecutor workers;
    private final ThreadPoolExecutor handshakes;
    private final ThreadPoolExecutor notifier;
    private final SedaConnectionEngine.Stages stages;
    // Written once by the notifier's thread factory (on the thread that starts it, before the thread runs); read by
    // isNotifyThread on any thread. Publishes only the reference.
    private volatile Thread notifyThread;
    // Written by the SCR thread (constructor, modified); read on any thread once per operation, into a local, so one
    // operation never mixes two configurations. The volatile write publishes the immutable record whole.
    private volatile Settings settings;
    // Engines made or adopted here and not yet retired. An engine leaves it once, when it is closed or handed over
    // (a handing-over engine stays: the handover may still be called off).
    private final Set<SedaConnectionEngine> open = ConcurrentHashMap.newKeySet();
    // Set once by deactivate(); read by create() and adopt() before and after adding to 'open', so an engine made
    // concurrently with deactivation is closed by one side or the other.
    private final AtomicBoolean stopped = new AtomicBoolean();
    /** True for the private instance of a warm-up: no INFO lines. */
    private final boolean quiet;
    // Every sampled query latency of every engine, retired ones included (recorded by querying threads and workers).
    private final AtomicHistogram latency = QueryMeter.newHistogram();
    // Retirements under way, and retirements finished. Incremented (and the first decremented) around each fold by the
    // retiring thread; metrics() reads both before and after summing and retries when either moved, so a total never
    // counts a retiring engine twice or not at all. They publish nothing else.
    private final AtomicInteger retiring = new AtomicInteger();
    private final AtomicLong retirements = new AtomicLong();
    // Counters of retired (closed or handed-over) engines, folded in once each. Each is read on its own.
    private final LongAdder retiredQueries = new LongAdder();
    private final LongAdder retiredCallbacks = new LongAdder();
    private final LongAdder retiredCommands = new LongAdder();
    private final LongAdder retiredErrors = new LongAdder();
    private final LongAdder retiredDropped = new LongAdder();
    private final LongAdder retiredStalls = new LongAdder();
    // Threads of ours that died of an uncaught exception (a bug: workers catch per command). Counter only.
    private final LongAdder uncaught = new LongAdder();

    @Activate
    public SedaConnectionStrategy(Config config) {
        this(validate(config), false);
    }

    /** {@code quiet}: a private instance for {@link #warmUp}, which logs nothing at INFO. */
    private SedaConnectionStrategy(Settings s, boolean quiet) {
        this.quiet = quiet;
        this.settings = s;
        this.workers = new ThreadPoolExecutor(s.workerThreads(), s.workerThreads(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory("midimesh-seda", true, this::uncaught));
        this.workers.prestartAllCoreThreads();
        this.handshakes = new ThreadPoolExecutor(s.handshakeThreads(), s.handshakeThreads(), 0,
                TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new NamedThreadFactory("midimesh-seda-handshake", true, this::uncaught));
        ThreadFactory notifyFactory = new NamedThreadFactory("midimesh-seda-notify", false, this::uncaught);
        this.notifier = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = notifyFactory.newThread(r);
            notifyThread = t;
            return t;
        });
        this.notifier.prestartAllCoreThreads();
        this.stages = new SedaConnectionEngine.Stages(workers, handshakes, notifier, t -> t == notifyThread,
                () -> settings.queryTimeoutMs(), () -> settings.sendOnCaller(), latency, this::retire);
        if (!quiet) {
            LOG.info("seda strategy activated, {} worker threads, queue capacity {}, query timeout {} ms, shutdown "
                    + "timeout {} ms, {} handshake threads, send on caller {}", s.workerThreads(), s.queueCapacity(),
                    s.queryTimeoutMs(), s.shutdownTimeoutMs(), s.handshakeThreads(), s.sendOnCaller());
        }
    }

    /**
     * Applies a new configuration live: timeouts and sending on the caller at once, pool sizes as threads become free,
     * capacity to new connections.
     */
    @Modified
    void modified(Config config) {
        Settings s = validate(config);
        settings = s;
        resize(workers, s.workerThreads());
        resize(handshakes, s.handshakeThreads());
        LOG.info("seda strategy reconfigured, {} worker threads, queue capacity {}, query timeout {} ms, shutdown "
                + "timeout {} ms, {} handshake threads, send on caller {}", s.workerThreads(), s.queueCapacity(),
                s.queryTimeoutMs(), s.shutdownTimeoutMs(), s.handshakeThreads(), s.sendOnCaller());
    }

    private static void resize(ThreadPoolExecutor pool, int threads) {
        if (threads > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(threads);
            pool.setCorePoolSize(threads);
        } else {
            pool.setCorePoolSize(threads);
            pool.setMaximumPoolSize(threads);
        }
    }

    /**
     * Runs three engines of a private instance of this strategy (same settings, its own stages, nothing logged at INFO)
     * through {@link Warmups#strategy}, then stops that instance. The live instance's engines, metrics and threads
     * are not touched. On the node's warm-up thread. With {@code send.on.caller} on, a second private instance with
     * it off warms the queued path too: the warm-up's one sending thread always finds its engines idle, so it would
     * otherwise never make the workers send, which a live node does whenever a send finds its connection busy.
     */
    @Override
    public String warmUp(Duration budget) {
        Settings s = settings;
        if (!s.sendOnCaller()) {
            return Warmups.onPrivateInstance(new SedaConnectionStrategy(s, true), SedaConnectionStrategy::deactivate,
                    budget);
        }
        Duration half = budget.dividedBy(2);
        Settings queued = s.withSendOnCaller(false);
        String onCaller = Warmups.onPrivateInstance(new SedaConnectionStrategy(s, true),
                SedaConnectionStrategy::deactivate, half);
        return onCaller + " on the caller, " + Warmups.onPrivateInstance(new SedaConnectionStrategy(queued, true),
                SedaConnectionStrategy::deactivate, half) + " queued";
    }

    /**
     * Closes every OPEN engine (each runs what it had queued, then enters DISCONNECTED), then stops the stages: the
     * handshakes at once (interrupted), the workers and the notification thread after they finished. Waits at most
     * {@code shutdown.timeout.ms} for all of it; what is late is logged at ERROR and interrupted. An engine a handover
     * has (HANDING_OVER) is left alone: it belongs to the swap, which completes or calls it off (a handed-over one has
     * left already). Later commands on the closed engines are rejected (see {@link SedaConnectionEngine});
     * {@link #create} and {@link #adopt} throw. Idempotent.
     */
    @Deactivate
    void deactivate() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        Settings s = settings;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(s.shutdownTimeoutMs());
        List<SedaConnectionEngine> closing = new ArrayList<>();
        int handingOver = 0;
        for (SedaConnectionEngine c : List.copyOf(open)) {
            try {
                if (c.closeUnlessHandingOver()) {
                    closing.add(c);
                } else {
                    handingOver++;
                }
            } catch (RuntimeException e) {
                LOG.error("closing {} failed", c, e);
            }
        }
        if (handingOver > 0) {
            LOG.info("seda strategy deactivating: {} engines handing over left to the swap", handingOver);
        }
        boolean interrupted = false;
        List<SedaConnectionEngine> late = new ArrayList<>();
        for (SedaConnectionEngine c : closing) {
            try {
                c.closedFuture().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                late.add(c);
            } catch (InterruptedException e) {
                interrupted = true;
                late.add(c);
                break;
            }
        }
        if (interrupted) {
            // Not a timeout: whoever stops us gave up waiting (a node stopped during its warm-up stops the warm-up's
            // private instance this way). Nothing to report for that private instance.
            if (!quiet) {
                LOG.warn("seda strategy stop interrupted: {} engines not closed yet, workers interrupted", late.size());
            }
        } else if (!late.isEmpty()) {
            LOG.error("{} seda engines did not finish closing within {} ms (commands still queued: {}): {}",
                    late.size(), s.shutdownTimeoutMs(), late.stream().mapToInt(c -> c.mailbox().depth()).sum(), late);
        }
        // Late handshake results are ignored: their engines are closed, or (handing over) discard or take them.
        handshakes.shutdownNow();
        workers.shutdown();
        boolean inTime = late.isEmpty();
        inTime &= awaitStop(workers, "midimesh-seda-<n>", deadline, interrupted, s);
        // The notification stage stops after the workers, which post its last events (the DISCONNECTEDs of close).
        notifier.shutdown();
        inTime &= awaitStop(notifier, "midimesh-seda-notify", deadline, interrupted, s);
        inTime &= awaitStop(handshakes, "midimesh-seda-handshake-<n>", deadline, interrupted, s);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!quiet) {
            LOG.info("seda strategy deactivated, closed {} engines{}", closing.size(),
                    inTime ? "" : ", not everything stopped in time");
        }
    }

    /** Waits for {@code pool} until the deadline, then interrupts it; after an interrupt of ours, at once. */
    private static boolean awaitStop(ThreadPoolExecutor pool, String threads, long deadline, boolean interrupted,
            Settings s) {
        if (!interrupted) {
            try {
                if (pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    return true;
                }
                pool.shutdownNow();
                LOG.error("threads {} did not stop within {} ms; interrupted", threads, s.shutdownTimeoutMs());
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pool.shutdownNow(); // the caller gave up waiting (reported once by deactivate), not a timeout
        return false;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * A new DISCONNECTED engine reporting to {@code events}; the caller owns it and ends it with
     * {@link ConnectionEngine#close()} or {@link ConnectionEngine#completeHandover()} (deactivation closes the OPEN
     * ones left).
     *
     * @throws IllegalStateException when this strategy has been deactivated
     */
    @Override
    public ConnectionEngine create(ConnectionContext context, EngineEvents events) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(events, "events");
        checkRunning();
        return register(new SedaConnectionEngine(context, events, stages, settings.queueCapacity(), null));
    }

    /**
     * An engine continuing from {@code handover}: same state, peer, devices and heartbeat time, no event for the move;
     * its first command sends the handed-over frames (when CONNECTED, else they are counted as dropped) and, when the
     * handover was CONNECTING, dials a handshake of its own.
     *
     * @throws IllegalStateException when this strategy has been deactivated
     */
    @Override
    public ConnectionEngine adopt(Handover handover, EngineEvents events) {
        Objects.requireNonNull(handover, "handover");
        Objects.requireNonNull(events, "events");
        checkRunning();
        return register(new SedaConnectionEngine(handover.context(), events, stages, settings.queueCapacity(),
                handover));
    }

    private void checkRunning() {
        if (stopped.get()) {
            throw new IllegalStateException("the seda strategy is stopped");
        }
    }

    private SedaConnectionEngine register(SedaConnectionEngine c) {
        open.add(c);
        if (stopped.get()) { // deactivate() ran meanwhile and may not have seen it
            c.closeUnlessHandingOver(); // nobody else has it yet: it is OPEN
            throw new IllegalStateException("the seda strategy is stopped");
        }
        return c;
    }

    /** An engine was closed or handed over: its counters join the totals, once. */
    private void retire(SedaConnectionEngine c) {
        if (!open.contains(c)) {
            return;
        }
        retiring.incrementAndGet();
        try {
            if (open.remove(c)) {
                ConnectionMetrics m = c.metrics();
                retiredQueries.add(m.totalQueries());
                retiredCallbacks.add(m.callbacksDispatched());
                retiredCommands.add(m.commandsProcessed());
                retiredErrors.add(m.errors());
                retiredDropped.add(m.droppedMessages());
                retiredStalls.add(m.stalls());
            }
        } finally {
            retirements.incrementAndGet();
            retiring.decrementAndGet();
        }
    }

    /**
     * Totals over every engine made or adopted here since activation: the open ones now plus the retired ones as they
     * were when retired ({@code stalls} as {@link SedaConnectionEngine#metrics()} counts them). Never blocks: a reading
     * that overlapped a retirement is taken again, at most {@value #METRICS_ATTEMPTS} times (then the last one is
     * returned, which may be off by that engine).
     */
    @Override
    public ConnectionMetrics metrics() {
        ConnectionMetrics m = null;
        for (int attempt = 0; attempt < METRICS_ATTEMPTS; attempt++) {
            long before = retirements.get();
            m = sum();
            if (retiring.get() == 0 && retirements.get() == before) {
                return m;
            }
            Thread.onSpinWait();
        }
        return m;
    }

    /** Attempts of {@link #metrics()} at a reading no retirement overlapped. */
    static final int METRICS_ATTEMPTS = 100;

    private ConnectionMetrics sum() {
        long queries = retiredQueries.sum();
        long callbacks = retiredCallbacks.sum();
        long commands = retiredCommands.sum();
        long errors = retiredErrors.sum();
        long dropped = retiredDropped.sum();
        long stalls = retiredStalls.sum();
        int depth = 0;
        for (SedaConnectionEngine c : open) {
            ConnectionMetrics m = c.metrics();
            queries += m.totalQueries();
            callbacks += m.callbacksDispatched();
            commands += m.commandsProcessed();
            errors += m.errors();
            dropped += m.droppedMessages();
            depth += m.queueDepth();
            stalls += m.stalls();
        }
        return new ConnectionMetrics(NAME, queries, 0, callbacks, commands, depth, QueryMeter.summarize(latency),
                errors, dropped, stalls);
    }

    /** Number of engines made or adopted here and neither closed nor handed over. */
    public int openConnections() {
        return open.size();
    }

    Settings settings() {
        return settings;
    }

    ThreadPoolExecutor workers() {
        return workers;
    }

    ThreadPoolExecutor handshakes() {
        return handshakes;
    }

    ThreadPoolExecutor notifier() {
        return notifier;
    }

    long uncaughtFailures() {
        return uncaught.sum();
    }

    private void uncaught(Throwable t) {
        uncaught.increment();
    }

    private static Settings validate(Config c) {
        return new Settings(
                intIn("worker_threads", c.worker_threads(), 1, MAX_THREADS, DEFAULT_WORKER_THREADS),
                intIn("queue_capacity", c.queue_capacity(), 1, MAX_QUEUE_CAPACITY, DEFAULT_QUEUE_CAPACITY),
                atLeastOne("query_timeout_ms", c.query_timeout_ms(), DEFAULT_QUERY_TIMEOUT_MS),
                atLeastOne("shutdown_timeout_ms", c.shutdown_timeout_ms(), DEFAULT_SHUTDOWN_TIMEOUT_MS),
                intIn("handshake_threads", c.handshake_threads(), 1, MAX_THREADS, DEFAULT_HANDSHAKE_THREADS),
                c.send_on_caller());
    }

    private static int intIn(String name, int v, int min, int max, int dflt) {
        if (v < min || v > max) {
            LOG.warn("{} must be {}..{}, not {}; using {}", name, min, max, v, dflt);
            return dflt;
        }
        return v;
    }

    private static long atLeastOne(String name, long v, long dflt) {
        if (v < 1) {
            LOG.warn("{} must be at least 1, not {}; using {}", name, v, dflt);
            return dflt;
        }
        return v;
    }
}
