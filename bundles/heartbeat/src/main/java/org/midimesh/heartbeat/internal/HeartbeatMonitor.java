package org.midimesh.heartbeat.internal;

import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.midimesh.common.NamedThreadFactory;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.PeerLink;
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
 * Keeps peers alive and notices silent ones. On its own thread {@code midimesh-heartbeat} (a one-thread scheduled
 * executor, created in the constructor and stopped with a bounded wait on deactivation) it
 * <ul>
 * <li>every {@code interval_ms} sends a heartbeat to the node of every CONNECTED connection in the pool, and</li>
 * <li>every {@code check_period_ms} calls {@link NetworkConnection#checkHeartbeat()} on every CONNECTED connection,
 * which marks a peer FAILED once it has been silent longer than its {@code ConnectionContext.heartbeatTimeout()}.</li>
 * </ul>
 * The mesh fills that context timeout from {@code timeout.ms} of its own PID org.midimesh.mesh (keep them equal); this component uses
 * {@code timeout_ms} itself only to count and log silent peers ({@link #getTimeoutsDetected()}). With the defaults a
 * peer that dies silently is FAILED within timeout + check period = 3.1 s.
 * <p>It iterates over {@link ConnectionPool#all()} snapshots, so it never calls out while the pool lock is held. A
 * failure with one connection is caught, logged and does not stop the others or later ticks. Thread-safe.
 */
@Component(immediate = true, configurationPid = HeartbeatMonitor.PID)
@Designate(ocd = HeartbeatMonitor.Config.class)
public final class HeartbeatMonitor {

    public static final String PID = "org.midimesh.heartbeat";
    static final long DEFAULT_INTERVAL_MS = 1000;
    static final long DEFAULT_CHECK_PERIOD_MS = 100;
    static final long DEFAULT_TIMEOUT_MS = 3000;
    static final long SHUTDOWN_TIMEOUT_MS = 2000;
    static final String THREAD_NAME = "midimesh-heartbeat";

    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatMonitor.class);

    @ObjectClassDefinition(id = PID, name = "MidiMesh heartbeat",
            description = "Heartbeats to connected peers and detection of silent ones")
    public @interface Config {

        @AttributeDefinition(name = "Heartbeat interval (ms)", min = "1",
                description = "How often a heartbeat is sent to each connected peer")
        long interval_ms() default DEFAULT_INTERVAL_MS;

        @AttributeDefinition(name = "Check period (ms)", min = "1",
                description = "How often each connected peer's heartbeat age is checked")
        long check_period_ms() default DEFAULT_CHECK_PERIOD_MS;

        @AttributeDefinition(name = "Heartbeat timeout (ms)", min = "1",
                description = "Silence after which a connected peer counts as failed; the mesh passes it to the "
                        + "connections, this monitor counts and logs silent peers with it")
        long timeout_ms() default DEFAULT_TIMEOUT_MS;
    }

    /** The validated settings in force; immutable. */
    record Settings(long intervalMs, long checkPeriodMs, long timeoutMs) {
    }

    private final ConnectionPool pool;
    private final PeerLink link;
    private final ScheduledThreadPoolExecutor executor;

    // Written by the SCR thread (constructor, modified); read by the heartbeat thread once per tick into a local. The
    // volatile write publishes the immutable record.
    private volatile Settings settings;
    // Only touched by the SCR thread (constructor, modified, deactivate), which DS serializes.
    private ScheduledFuture<?> sendTask;
    private ScheduledFuture<?> checkTask;

    // Counters: written by the heartbeat thread, read by anyone; each publishes only its own value.
    private final AtomicLong heartbeatsSent = new AtomicLong();
    private final AtomicLong timeoutsDetected = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong checkRounds = new AtomicLong();

    // Confined to the heartbeat thread: connections already counted as silent, until they are heard from again or
    // leave the pool. Identity, because connections need not implement equals.
    private final Set<NetworkConnection> silent = Collections.newSetFromMap(new IdentityHashMap<>());
    // Confined to the heartbeat thread: whether the previous round of each kind had failures (log on change only).
    private boolean sendFailing;
    private boolean checkFailing;

    @Activate
    public HeartbeatMonitor(@Reference(name = "pool") ConnectionPool pool, @Reference(name = "link") PeerLink link,
            Config config) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.link = Objects.requireNonNull(link, "link");
        this.settings = validate(config);
        this.executor = new ScheduledThreadPoolExecutor(1, new NamedThreadFactory(THREAD_NAME, false));
        this.executor.setRemoveOnCancelPolicy(true);
        this.executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        schedule(settings);
        LOG.info("heartbeat monitor activated, interval {} ms, check period {} ms, timeout {} ms",
                settings.intervalMs(), settings.checkPeriodMs(), settings.timeoutMs());
    }

    @Modified
    void modified(Config config) {
        Settings s = validate(config);
        settings = s;
        sendTask.cancel(false);
        checkTask.cancel(false);
        schedule(s);
        LOG.info("heartbeat monitor reconfigured, interval {} ms, check period {} ms, timeout {} ms",
                s.intervalMs(), s.checkPeriodMs(), s.timeoutMs());
    }

    @Deactivate
    void deactivate() {
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                LOG.error("thread {} did not stop within {} ms", THREAD_NAME, SHUTDOWN_TIMEOUT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("heartbeat monitor deactivated, {} heartbeats sent, {} timeouts detected", heartbeatsSent.get(),
                timeoutsDetected.get());
    }

    /** Heartbeats handed to the peer link so far. Thread-safe. */
    public long getHeartbeatsSent() {
        return heartbeatsSent.get();
    }

    /** Times a connected peer was found silent for longer than {@code timeout_ms} (once per silence). Thread-safe. */
    public long getTimeoutsDetected() {
        return timeoutsDetected.get();
    }

    /** Failures caught while handling a connection (or reading the pool). Thread-safe. */
    public long getErrors() {
        return errors.get();
    }

    /** For tests: completed check rounds. */
    long checkRounds() {
        return checkRounds.get();
    }

    Settings settings() {
        return settings;
    }

    private void schedule(Settings s) {
        // Fixed rate for heartbeats (peers expect a steady interval); fixed delay for checks (no catch-up bursts).
        sendTask = executor.scheduleAtFixedRate(this::sendRound, s.intervalMs(), s.intervalMs(),
                TimeUnit.MILLISECONDS);
        checkTask = executor.scheduleWithFixedDelay(this::checkRound, s.checkPeriodMs(), s.checkPeriodMs(),
                TimeUnit.MILLISECONDS);
    }

    /** On the heartbeat thread. Never throws: a periodic task that throws is never run again. */
    private void sendRound() {
        int failures = 0;
        for (NetworkConnection c : snapshot()) {
            try {
                if (c.getState() != ConnectionState.CONNECTED) {
                    continue;
                }
                Optional<NodeInfo> node = c.getRemoteNode();
                if (node.isPresent()) {
                    link.sendHeartbeat(node.get());
                    heartbeatsSent.incrementAndGet();
                }
            } catch (Throwable t) {
                failures++;
                errors.incrementAndGet();
                if (!sendFailing) {
                    LOG.warn("sending a heartbeat over {} failed", c, t);
                }
            }
        }
        if (sendFailing && failures == 0) {
            LOG.info("heartbeats are sent again without failures");
        }
        sendFailing = failures > 0;
    }

    /** On the heartbeat thread. Never throws. */
    private void checkRound() {
        long timeoutMs = settings.timeoutMs();
        Collection<NetworkConnection> all = snapshot();
        Set<NetworkConnection> present = Collections.newSetFromMap(new IdentityHashMap<>());
        present.addAll(all);
        silent.retainAll(present); // forget connections that left the pool
        int failures = 0;
        for (NetworkConnection c : all) {
            try {
                if (c.getState() != ConnectionState.CONNECTED) {
                    continue;
                }
                c.checkHeartbeat();
                long age = c.getTimeSinceLastHeartbeat();
                if (age <= timeoutMs) {
                    silent.remove(c);
                } else if (silent.add(c)) {
                    timeoutsDetected.incrementAndGet();
                    LOG.info("{} silent for {} ms (timeout {} ms), now {}", c, age, timeoutMs,
                            c.getState().wireName());
                }
            } catch (Throwable t) {
                failures++;
                errors.incrementAndGet();
                if (!checkFailing) {
                    LOG.warn("checking the heartbeat of {} failed", c, t);
                }
            }
        }
        if (checkFailing && failures == 0) {
            LOG.info("heartbeat checks run again without failures");
        }
        checkFailing = failures > 0;
        checkRounds.incrementAndGet();
    }

    private Collection<NetworkConnection> snapshot() {
        try {
            return pool.all();
        } catch (Throwable t) {
            errors.incrementAndGet();
            LOG.warn("reading the connection pool failed", t);
            return List.of();
        }
    }

    private static Settings validate(Config config) {
        return new Settings(positive("interval_ms", config.interval_ms(), DEFAULT_INTERVAL_MS),
                positive("check_period_ms", config.check_period_ms(), DEFAULT_CHECK_PERIOD_MS),
                positive("timeout_ms", config.timeout_ms(), DEFAULT_TIMEOUT_MS));
    }

    private static long positive(String name, long value, long fallback) {
        if (value < 1) {
            LOG.warn("{} must be at least 1, not {}; using {}", name, value, fallback);
            return fallback;
        }
        return value;
    }
}
