package org.midimesh.connection.mutex.internal;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.midimesh.common.NamedThreadFactory;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.connection.NetworkConnection;
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
 * connection this strategy made that is still open.
 */
@Component(service = ConnectionStrategy.class, immediate = true, configurationPid = MutexConnectionStrategy.PID,
        property = ConnectionStrategy.STRATEGY_PROPERTY + "=" + MutexNetworkConnection.STRATEGY)
@Designate(ocd = MutexConnectionStrategy.Config.class)
public final class MutexConnectionStrategy implements ConnectionStrategy {

    public static final String PID = "org.midimesh.connection.mutex";
    static final long DEFAULT_LOCK_TIMEOUT_MS = 100;
    static final int DEFAULT_HANDSHAKE_THREADS = 2;
    static final int MAX_HANDSHAKE_THREADS = 64;
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
    }

    private final ThreadPoolExecutor notifyExecutor;
    private final ThreadPoolExecutor connectExecutor;
    // Open connections made here; a connection removes itself when closed.
    private final Set<MutexNetworkConnection> open = ConcurrentHashMap.newKeySet();
    // Set once by deactivate(); read by create(). Together with the concurrent set it guarantees that a connection
    // created concurrently with deactivation is closed by one side or the other.
    private final AtomicBoolean stopped = new AtomicBoolean();
    // Written by the SCR thread (constructor, modified); read by connections on any thread at each timed lock wait.
    // A plain value: it publishes nothing else.
    private volatile long lockTimeoutMs;

    @Activate
    public MutexConnectionStrategy(Config config) {
        this.lockTimeoutMs = lockTimeout(config);
        int threads = handshakeThreads(config);
        this.notifyExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new NamedThreadFactory("midimesh-mutex-notify", false));
        this.notifyExecutor.prestartAllCoreThreads();
        this.connectExecutor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory("midimesh-mutex-connect", true));
        LOG.info("mutex strategy activated, lock timeout {} ms, {} handshake threads", lockTimeoutMs, threads);
    }

    @Modified
    void modified(Config config) {
        lockTimeoutMs = lockTimeout(config);
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

    /** Closes every open connection made here, then stops both pools (bounded wait). Idempotent. */
    @Deactivate
    void deactivate() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        List<MutexNetworkConnection> toClose = List.copyOf(open);
        for (MutexNetworkConnection c : toClose) {
            try {
                c.close();
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
        if (stopped.get()) {
            throw new IllegalStateException("the mutex strategy is stopped");
        }
        MutexNetworkConnection c = new MutexNetworkConnection(context, notifyExecutor, connectExecutor,
                () -> lockTimeoutMs, open::remove);
        open.add(c);
        if (stopped.get()) { // deactivate() ran meanwhile and may not have seen it
            c.close();
            throw new IllegalStateException("the mutex strategy is stopped");
        }
        return c;
    }

    /** Sum of the counters of the connections open now (closed ones no longer count). Thread-safe. */
    public MutexConnectionMetrics metrics() {
        MutexConnectionMetrics sum = MutexConnectionMetrics.ZERO;
        for (MutexNetworkConnection c : open) {
            sum = sum.plus(c.metrics());
        }
        return sum;
    }

    /** Number of connections made here and not yet closed. */
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
