package org.midimesh.connection.mutex.internal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.common.NamedThreadFactory;
import org.midimesh.common.Warmups;
import org.midimesh.common.metrics.QueryMeter;
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
 * The mutex connection strategy (workplan Approach A): makes {@link MutexConnectionEngine}s. Thread-safe.
 * <p>Owns two thread pools shared by all its engines: the notification thread {@code midimesh-mutex-notify} (every
 * event of every engine, in order per engine) and the handshake threads {@code midimesh-mutex-connect-<n>} (the
 * blocking HTTP handshake, so {@code connect()} returns at once). Both are created in the constructor and stopped,
 * with a bounded wait, in {@link #deactivate()}, which also closes every engine this strategy made (or adopted) that
 * is still open and ACTIVE: one that is handing over belongs to the swap and is left alone.
 * <p>Metrics: {@link #metrics()} sums the open engines and the final counters of every engine closed or handed over
 * since activation. One small lock, {@code registryLock}, makes registering an engine atomic with the stopped check,
 * and moving an engine into those retired totals atomic with summing them, so each engine counts exactly once. It
 * guards the set and the arithmetic only: no engine lock is ever taken under it, and it is never taken under one.
 */
@Component(service = ConnectionStrategy.class, immediate = true, configurationPid = MutexConnectionStrategy.PID,
        property = ConnectionStrategy.STRATEGY_PROPERTY + "=" + MutexConnectionEngine.STRATEGY)
@Designate(ocd = MutexConnectionStrategy.Config.class)
public final class MutexConnectionStrategy implements ConnectionStrategy, Warmable {

    public static final String PID = "org.midimesh.connection.mutex";
    static final long DEFAULT_LOCK_TIMEOUT_MS = 100;
    static final int DEFAULT_HANDSHAKE_THREADS = 2;
    static final int MAX_HANDSHAKE_THREADS = 64;
    static final long DEFAULT_HANDOVER_TIMEOUT_MS = 5000;
    /** Bounded wait for each pool to stop on deactivation. */
    static final long SHUTDOWN_TIMEOUT_MS = 2000;

    private static final Logger LOG = LoggerFactory.getLogger(MutexConnectionStrategy.class);

    @ObjectClassDefinition(id = PID, name = "MidiMesh mutex connection strategy",
            description = "Connections guarded by one lock per connection (workplan Approach A)")
    public @interface Config {

        @AttributeDefinition(name = "Lock timeout (ms)", min = "1",
                description = "Bounded wait for a connection lock after a failed tryLock; on timeout the owner is "
                        + "logged, queries answer from the last snapshot and commands are retried on the "
                        + "notification thread")
        long lock_timeout_ms() default DEFAULT_LOCK_TIMEOUT_MS;

        @AttributeDefinition(name = "Handshake threads", min = "1", max = "64",
                description = "Threads running outbound HTTP handshakes (midimesh-mutex-connect-<n>)")
        int handshake_threads() default DEFAULT_HANDSHAKE_THREADS;

        @AttributeDefinition(name = "Handover timeout (ms)", min = "1",
                description = "How long beginHandover (hot swap) may wait, in all, for a connection's deferred "
                        + "commands to run and its pending events to be delivered; when it runs out the handover "
                        + "is refused (logged at WARN with the notification thread's stack) and the connection "
                        + "goes on")
        long handover_timeout_ms() default DEFAULT_HANDOVER_TIMEOUT_MS;
    }

    private final ThreadPoolExecutor notifyExecutor;
    private final ThreadPoolExecutor connectExecutor;
    // Open engines made or adopted here; an engine leaves (retire) when closed or handed over. Added to under
    // registryLock, removed under it; iterated under it (metrics) or copied under it (deactivate).
    private final Set<MutexConnectionEngine> open = ConcurrentHashMap.newKeySet();
    // Guards adding to open together with the stopped check, and retiredMetrics together with leaving open.
    private final ReentrantLock registryLock = new ReentrantLock();
    // Guarded by registryLock: final counters of the engines retired so far.
    private MutexConnectionMetrics retiredMetrics = MutexConnectionMetrics.ZERO;
    // Query latency samples of every engine made or adopted here (each also records its own): recording is
    // lock-free from any querying thread; readers summarize it without a lock (QueryMeter).
    private final AtomicHistogram latency = QueryMeter.newHistogram();
    private final MutexConnectionEngine.Env env;
    // Written once by the notification thread's factory (before the thread runs); read by engines to refuse a
    // beginHandover from an event and to log the thread's stack when beginHandover waits for it in vain. Publishes
    // nothing else.
    private volatile Thread notifyThread;
    // Set once by deactivate() under registryLock; read under it by register() and without it by checkRunning() as
    // an early refusal. Under the lock it guarantees that an engine registered concurrently with deactivation is
    // either closed by deactivate or refused (and never seen by anyone). Publishes nothing else.
    private final AtomicBoolean stopped = new AtomicBoolean();
    // Written by the SCR thread (constructor, modified); read by engines on any thread at each timed lock wait.
    // A plain value: it publishes nothing else.
    private volatile long lockTimeoutMs;
    // Like lockTimeoutMs, read by engines at each beginHandover.
    private volatile long handoverTimeoutMs;
    /** True for the private instance of a warm-up: no INFO lines. */
    private final boolean quiet;

    @Activate
    public MutexConnectionStrategy(Config config) {
        this(lockTimeout(config), handoverTimeout(config), handshakeThreads(config), false);
    }

    /** {@code quiet}: a private instance for {@link #warmUp}, which logs nothing at INFO. */
    private MutexConnectionStrategy(long lockTimeoutMs, long handoverTimeoutMs, int threads, boolean quiet) {
        this.quiet = quiet;
        this.lockTimeoutMs = lockTimeoutMs;
        this.handoverTimeoutMs = handoverTimeoutMs;
        ThreadFactory named = new NamedThreadFactory("midimesh-mutex-notify", false);
        this.notifyExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = named.newThread(r);
                    notifyThread = t;
                    return t;
                });
        this.notifyExecutor.prestartAllCoreThreads();
        this.connectExecutor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory("midimesh-mutex-connect", true));
        this.env = new MutexConnectionEngine.Env(notifyExecutor, connectExecutor, () -> lockTimeoutMs,
                () -> handoverTimeoutMs, () -> notifyThread, this::retire, latency);
        if (!quiet) {
            LOG.info("mutex strategy activated, lock timeout {} ms, {} handshake threads, handover timeout {} ms",
                    lockTimeoutMs, threads, handoverTimeoutMs);
        }
    }

    @Modified
    void modified(Config config) {
        lockTimeoutMs = lockTimeout(config);
        handoverTimeoutMs = handoverTimeout(config);
        int threads = handshakeThreads(config);
        // SCR never runs modified() concurrently; the order keeps core <= max at every step.
        if (threads > connectExecutor.getMaximumPoolSize()) {
            connectExecutor.setMaximumPoolSize(threads);
            connectExecutor.setCorePoolSize(threads);
        } else {
            connectExecutor.setCorePoolSize(threads);
            connectExecutor.setMaximumPoolSize(threads);
        }
        LOG.info("mutex strategy reconfigured, lock timeout {} ms, {} handshake threads", lockTimeoutMs, threads);
    }

    /**
     * Runs three engines of a private instance of this strategy (same timeouts, its own pools, nothing logged at INFO)
     * through {@link Warmups#strategy}, then stops that instance. The live instance's engines, metrics and threads are
     * not touched. On the node's warm-up thread.
     */
    @Override
    public String warmUp(Duration budget) {
        return Warmups.onPrivateInstance(new MutexConnectionStrategy(lockTimeoutMs, handoverTimeoutMs, 1, true),
                MutexConnectionStrategy::deactivate, budget);
    }

    /**
     * Closes every open engine made here that is ACTIVE (one that is handing over belongs to the swap and is left
     * alone), then stops both pools (bounded wait). Idempotent.
     */
    @Deactivate
    void deactivate() {
        List<MutexConnectionEngine> toClose;
        registryLock.lock();
        try {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            toClose = List.copyOf(open);
        } finally {
            registryLock.unlock();
        }
        for (MutexConnectionEngine c : toClose) {
            try {
                c.closeForShutdown();
            } catch (RuntimeException e) {
                LOG.error("closing {} failed", c, e);
            }
        }
        // Interrupts blocked handshakes; their results are ignored because the engines are closed or handing over.
        connectExecutor.shutdownNow();
        // Lets the queued events (the DISCONNECTED of each close) and deferred commands run first.
        notifyExecutor.shutdown();
        // '&', not '&&': wait for both pools even when the first one is late.
        boolean stoppedInTime = awaitStop(connectExecutor, "midimesh-mutex-connect-*")
                & awaitStop(notifyExecutor, "midimesh-mutex-notify");
        if (!quiet) {
            LOG.info("mutex strategy deactivated, {} open engines closed unless handing over{}", toClose.size(),
                    stoppedInTime ? "" : ", some threads did not stop in time");
        }
    }

    private static boolean awaitStop(ExecutorService executor, String threads) {
        try {
            if (executor.awaitTermination(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                return true;
            }
            executor.shutdownNow();
            LOG.error("threads {} did not stop within {} ms", threads, SHUTDOWN_TIMEOUT_MS);
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        return false;
    }

    @Override
    public String name() {
        return MutexConnectionEngine.STRATEGY;
    }

    /**
     * A new DISCONNECTED engine reporting to {@code events}; the caller owns it and ends it with close() or
     * completeHandover() (deactivation closes the ACTIVE ones left).
     *
     * @throws IllegalStateException when this strategy has been deactivated
     */
    @Override
    public ConnectionEngine create(ConnectionContext context, EngineEvents events) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(events, "events");
        checkRunning();
        MutexConnectionEngine c = new MutexConnectionEngine(context, events, env);
        register(c);
        return c;
    }

    /**
     * An engine continuing from {@code handover}: same state, peer, devices and heartbeat time, no event for the
     * move. Once it is registered, the handed-over frames are sent first (when CONNECTED) and a CONNECTING engine
     * dials its own handshake; when the strategy is stopped nothing is sent or dialled.
     *
     * @throws IllegalStateException when this strategy has been deactivated
     */
    @Override
    public ConnectionEngine adopt(Handover handover, EngineEvents events) {
        Objects.requireNonNull(handover, "handover");
        Objects.requireNonNull(events, "events");
        checkRunning();
        MutexConnectionEngine c = new MutexConnectionEngine(handover.context(), events, env);
        c.restore(handover);
        register(c);
        c.resumeAdopted(handover.queuedFrames());
        return c;
    }

    /** Adds a new engine (no thread has it yet) to the open ones, or refuses it when stopped: then nobody sees it. */
    private void register(MutexConnectionEngine c) {
        registryLock.lock();
        try {
            checkRunning();
            open.add(c);
        } finally {
            registryLock.unlock();
        }
    }

    private void checkRunning() {
        if (stopped.get()) {
            throw new IllegalStateException("the mutex strategy is stopped");
        }
    }

    /** Folds a closed or handed-over engine's final counters into the totals; once per engine. */
    private void retire(MutexConnectionEngine c) {
        MutexConnectionMetrics last = c.detailedMetrics().withoutWaitingCommands();
        registryLock.lock();
        try {
            if (open.remove(c)) {
                retiredMetrics = retiredMetrics.plus(last);
            }
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Totals over every engine made or adopted since activation: the open ones now, the closed and handed-over ones
     * as of their close or handover. Waits for no engine lock and no thread of the strategy.
     */
    @Override
    public ConnectionMetrics metrics() {
        return detailedMetrics().toApi(QueryMeter.summarize(latency));
    }

    /** The totals with the mutex counters, as {@link #metrics()} counts them. */
    public MutexConnectionMetrics detailedMetrics() {
        registryLock.lock();
        try {
            MutexConnectionMetrics sum = retiredMetrics;
            for (MutexConnectionEngine c : open) {
                sum = sum.plus(c.detailedMetrics());
            }
            return sum;
        } finally {
            registryLock.unlock();
        }
    }

    /** Number of engines made or adopted here and not yet closed or handed over. */
    public int openConnections() {
        return open.size();
    }

    long lockTimeoutMillis() {
        return lockTimeoutMs;
    }

    /** For tests: the handshake pool, to wait until earlier handshake tasks have finished. */
    ExecutorService connectExecutor() {
        return connectExecutor;
    }

    private static long lockTimeout(Config config) {
        long v = config.lock_timeout_ms();
        if (v < 1) {
            LOG.warn("lock_timeout_ms must be at least 1, not {}; using {}", v, DEFAULT_LOCK_TIMEOUT_MS);
            return DEFAULT_LOCK_TIMEOUT_MS;
        }
        return v;
    }

    private static long handoverTimeout(Config config) {
        long v = config.handover_timeout_ms();
        if (v < 1) {
            LOG.warn("handover_timeout_ms must be at least 1, not {}; using {}", v, DEFAULT_HANDOVER_TIMEOUT_MS);
            return DEFAULT_HANDOVER_TIMEOUT_MS;
        }
        return v;
    }

    private static int handshakeThreads(Config config) {
        int v = config.handshake_threads();
        if (v < 1 || v > MAX_HANDSHAKE_THREADS) {
            LOG.warn("handshake_threads must be 1..{}, not {}; using {}", MAX_HANDSHAKE_THREADS, v,
                    DEFAULT_HANDSHAKE_THREADS);
            return DEFAULT_HANDSHAKE_THREADS;
        }
        return v;
    }
}
