package org.midimesh.connection.mutex.internal;

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
import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.common.NamedThreadFactory;
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
 * The mutex connection strategy (workplan Approach A): makes {@link MutexNetworkConnection}s. Thread-safe.
 * <p>Owns two thread pools shared by all its connections: the notification thread {@code midimesh-mutex-notify}
 * (every listener call of every connection, in order per connection) and the handshake threads
 * {@code midimesh-mutex-connect-<n>} (the blocking HTTP handshake, so {@code connect()} returns at once). Both are
 * created in the constructor and stopped, with a bounded wait, in {@link #deactivate()}, which also closes every
 * connection this strategy made (or adopted) that is still open and not being handed over.
 * <p>Metrics: {@link #metrics()} sums the open connections and the final counters of every connection closed or
 * handed over since activation. One small lock, {@code totalsLock}, makes moving a connection into those retired
 * totals and summing them atomic, so each connection counts exactly once; it guards arithmetic only.
 */
@Component(service = ConnectionStrategy.class, immediate = true, configurationPid = MutexConnectionStrategy.PID,
        property = ConnectionStrategy.STRATEGY_PROPERTY + "=" + MutexNetworkConnection.STRATEGY)
@Designate(ocd = MutexConnectionStrategy.Config.class)
public final class MutexConnectionStrategy implements ConnectionStrategy {

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
                description = "How long beginHandover (hot swap) waits for a connection's pending callbacks to be "
                        + "delivered before it hands the connection over anyway (logged at ERROR)")
        long handover_timeout_ms() default DEFAULT_HANDOVER_TIMEOUT_MS;
    }

    private final ThreadPoolExecutor notifyExecutor;
    private final ThreadPoolExecutor connectExecutor;
    // Open connections made or adopted here; a connection leaves (retire) when closed or handed over.
    private final Set<MutexNetworkConnection> open = ConcurrentHashMap.newKeySet();
    // Guards retiredMetrics, and makes retiring a connection atomic with summing the totals.
    private final ReentrantLock totalsLock = new ReentrantLock();
    // Guarded by totalsLock: final counters of the connections retired so far.
    private MutexConnectionMetrics retiredMetrics = MutexConnectionMetrics.ZERO;
    // Query latency samples of every connection made or adopted here (each also records its own): recording is
    // lock-free from any querying thread; readers summarize it without a lock (QueryMeter).
    private final AtomicHistogram latency = QueryMeter.newHistogram();
    private final MutexNetworkConnection.Env env;
    // Written once by the notification thread's factory (before the thread runs); read by connections to refuse a
    // beginHandover from a listener callback. Publishes nothing else.
    private volatile Thread notifyThread;
    // Set once by deactivate(); read by create(). Together with the concurrent set it guarantees that a connection
    // created concurrently with deactivation is closed by one side or the other.
    private final AtomicBoolean stopped = new AtomicBoolean();
    // Written by the SCR thread (constructor, modified); read by connections on any thread at each timed lock wait.
    // A plain value: it publishes nothing else.
    private volatile long lockTimeoutMs;
    // Like lockTimeoutMs, read by connections at each beginHandover.
    private volatile long handoverTimeoutMs;

    @Activate
    public MutexConnectionStrategy(Config config) {
        this.lockTimeoutMs = lockTimeout(config);
        this.handoverTimeoutMs = handoverTimeout(config);
        int threads = handshakeThreads(config);
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
        this.env = new MutexNetworkConnection.Env(notifyExecutor, connectExecutor, () -> lockTimeoutMs,
                () -> handoverTimeoutMs, () -> Thread.currentThread() == notifyThread, this::retire, latency);
        LOG.info("mutex strategy activated, lock timeout {} ms, {} handshake threads, handover timeout {} ms",
                lockTimeoutMs, threads, handoverTimeoutMs);
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
     * Closes every open connection made here (except those being handed over: they belong to the swap), then stops
     * both pools (bounded wait). Idempotent.
     */
    @Deactivate
    void deactivate() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        List<MutexNetworkConnection> toClose = List.copyOf(open);
        for (MutexNetworkConnection c : toClose) {
            try {
                c.closeForShutdown();
            } catch (RuntimeException e) {
                LOG.error("closing {} failed", c, e);
            }
        }
        // Interrupts blocked handshakes; their results are ignored because the connections are closed.
        connectExecutor.shutdownNow();
        // Lets the queued events (the DISCONNECTED of each close) and deferred commands run first.
        notifyExecutor.shutdown();
        // '&', not '&&': wait for both pools even when the first one is late.
        boolean stoppedInTime = awaitStop(connectExecutor, "midimesh-mutex-connect-*")
                & awaitStop(notifyExecutor, "midimesh-mutex-notify");
        LOG.info("mutex strategy deactivated, closed {} connections{}", toClose.size(),
                stoppedInTime ? "" : ", some threads did not stop in time");
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
        return MutexNetworkConnection.STRATEGY;
    }

    /**
     * A new DISCONNECTED connection; the caller owns it and must close it (deactivation closes the ones left).
     *
     * @throws IllegalStateException when this strategy has been deactivated
     */
    @Override
    public NetworkConnection create(ConnectionContext context) {
        Objects.requireNonNull(context, "context");
        return register(new MutexNetworkConnection(context, env));
    }

    /**
     * A connection continuing from {@code handover}: same state, peer, devices, heartbeat time and listeners, no
     * callback for the move; the handed-over frames are sent first and a CONNECTING connection runs its own handshake.
     *
     * @throws IllegalStateException when this strategy has been deactivated
     */
    @Override
    public NetworkConnection adopt(ConnectionHandover handover) {
        Objects.requireNonNull(handover, "handover");
        checkRunning();
        MutexNetworkConnection c = new MutexNetworkConnection(handover.context(), env);
        c.adopt(handover);
        return register(c);
    }

    private MutexNetworkConnection register(MutexNetworkConnection c) {
        checkRunning();
        open.add(c);
        if (stopped.get()) { // deactivate() ran meanwhile and may not have seen it
            c.close();
            throw new IllegalStateException("the mutex strategy is stopped");
        }
        return c;
    }

    private void checkRunning() {
        if (stopped.get()) {
            throw new IllegalStateException("the mutex strategy is stopped");
        }
    }

    /** Folds a closed or handed-over connection's final counters into the totals; once per connection. */
    private void retire(MutexNetworkConnection c) {
        MutexConnectionMetrics last = c.detailedMetrics().withoutWaitingCommands();
        totalsLock.lock();
        try {
            if (open.remove(c)) {
                retiredMetrics = retiredMetrics.plus(last);
            }
        } finally {
            totalsLock.unlock();
        }
    }

    /**
     * Totals over every connection made or adopted since activation: the open ones now, the closed and handed-over
     * ones as of their close or handover. Waits for no connection lock and no thread of the strategy.
     */
    @Override
    public ConnectionMetrics metrics() {
        return detailedMetrics().toApi(QueryMeter.summarize(latency));
    }

    /** The totals with the mutex counters, as {@link #metrics()} counts them. */
    public MutexConnectionMetrics detailedMetrics() {
        totalsLock.lock();
        try {
            MutexConnectionMetrics sum = retiredMetrics;
            for (MutexNetworkConnection c : open) {
                sum = sum.plus(c.detailedMetrics());
            }
            return sum;
        } finally {
            totalsLock.unlock();
        }
    }

    /** Number of connections made or adopted here and not yet closed or handed over. */
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
