package org.midimesh.strategy.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.PolicyMode;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.StrategyReport;
import org.midimesh.api.strategy.StrategyStatus;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.strategy.Verdict;
import org.midimesh.api.strategy.Verdict.Action;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.common.AtomicFiles;
import org.midimesh.common.NamedThreadFactory;
import org.midimesh.common.metrics.QueryMeter;
import org.midimesh.strategy.internal.WindowStats.Figures;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The strategy manager: the only consumer of {@link ConnectionStrategy} services and the only place that chooses a
 * strategy. It makes every connection ({@link #open}: a {@link ManagedConnection} that lives as long as the peer is
 * known), moves live connections when the settings change, when a strategy comes, goes or is outranked, and when the
 * canary policy acts; it keeps the settings in {@code <data-dir>/etc/org.midimesh.strategy.cfg}, and compares the
 * strategies over a sliding window.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@code midimesh-strategy}: samples the window, evaluates the policy and acts on it, and runs the moves that
 * nobody waits for (a strategy came, a connection learned its peer, the settings file changed).</li>
 * <li>{@code midimesh-strategy-swap-<n>}: moves connections in parallel, for whoever asked (an API call waits for its
 * moves; an unbinding strategy waits for its connections, bounded by {@code swap.timeout.ms}).</li>
 * <li>{@code midimesh-strategy-events-<n>}: every listener call of every connection (see {@link EventLane}).</li>
 * </ul>
 * SCR threads bind and unbind strategies (unbind moves the leaving strategy's connections before it returns, because
 * its classes go away next; when the framework itself stops nothing is moved); API calls come from HTTP and shell
 * threads and wait for their moves.
 *
 * <h2>Locking</h2>
 * {@link #lock} guards the settings, the bound slots, the decision log and the policy's memory, for a few field reads
 * and writes: nothing is called out while it is held. The settings and slots are immutable values also published
 * through volatile fields, so the hot paths ({@link #open}, a connection's CONNECTED event) read them without it. Each
 * connection's move runs under that connection's own move lock (tried with the swap timeout). The settings file is
 * written under {@link #fileLock}, after the state lock is released.
 */
@Component(service = StrategyControl.class, immediate = true, configurationPid = StrategySettings.PID)
@Designate(ocd = StrategyConfig.class)
public final class StrategyManager implements StrategyControl, ManagedConnection.Host, Warmable {

    private static final Logger LOG = LoggerFactory.getLogger(StrategyManager.class);
    /** Admin changes, one INFO line each (conventions 2.2). */
    private static final Logger AUDIT = LoggerFactory.getLogger("midimesh.audit");
    /** Decisions kept for {@link #decisions()}. */
    static final int DECISIONS_KEPT = 200;
    /** The window is sampled this many times per window (bounded below by {@link #MIN_TICK_MS}). */
    static final int SAMPLES_PER_WINDOW = 12;
    static final long MIN_TICK_MS = 100;
    static final long MAX_TICK_MS = 5000;

    /**
     * What the manager needs from its surroundings; the OSGi constructor builds it from {@link LocalNode} and the
     * framework, tests make one directly.
     *
     * @param etcDir             where the settings file lives
     * @param strategyOption     the {@code --strategy} given on the command line, which wins at start
     * @param frameworkStopping  true while the framework (or this bundle) stops: then nothing is moved
     */
    public record Environment(Path etcDir, Optional<String> strategyOption, BooleanSupplier frameworkStopping) {
        public Environment {
            Objects.requireNonNull(etcDir, "etcDir");
            Objects.requireNonNull(strategyOption, "strategyOption");
            Objects.requireNonNull(frameworkStopping, "frameworkStopping");
        }
    }

    private final Environment env;
    private final SettingsFile file;
    private final ParkedStrategy parking = new ParkedStrategy();
    private final Slot parked = Slot.parked(parking);
    private final WindowStats stats = new WindowStats();
    private final ScheduledThreadPoolExecutor scheduler;
    private final ThreadPoolExecutor swapThreads;
    private final ThreadPoolExecutor eventThreads;
    private final long startedNanos = System.nanoTime();
    private final AtomicLong serials = new AtomicLong();
    // Every open connection: added by open(), removed by its close(). Iterated by moves and the report.
    private final Set<ManagedConnection> live = ConcurrentHashMap.newKeySet();

    private final ReentrantLock lock = new ReentrantLock();
    private final Object fileLock = new Object();
    // Written under lock (a whole new value); read anywhere without it. The volatile write publishes the immutable
    // value, so a reader sees one consistent set of settings.
    private volatile StrategySettings settings;
    // Like settings: the bound strategy services, replaced whole under lock.
    private volatile Slots slots = Slots.EMPTY;
    // Guarded by lock: the default before the last change of the default (what rollback restores), or null.
    private String previousDefault;
    // Guarded by lock: the decision log, newest last.
    private final ArrayDeque<PolicyDecision> decisions = new ArrayDeque<>();
    // Guarded by lock: the policy's memory.
    private long lastChangeNanos;
    private long lastActionNanos = Long.MIN_VALUE;
    private String rolledBack;
    private long rolledBackNanos;
    private Action lastRecordedAction = Action.KEEP;
    // Guarded by fileLock: the file on disk did not parse at start; it is moved aside before the first write.
    private boolean fileUnreadable;
    // Written by the scheduler after each sample; read by report(). Publishes the immutable report.
    private volatile StrategyReport lastReport;
    // Set once when deactivating; read by every path that would start work.
    private volatile boolean stopping;

    /** Started by SCR: settings from the file (or ConfigAdmin), {@code --strategy} on top. */
    @Activate
    public StrategyManager(BundleContext context, @Reference LocalNode node, Map<String, Object> properties) {
        this(new Environment(node.dataDir().resolve("etc"), node.strategyOption(),
                () -> isStopping(context.getBundle(0)) || isStopping(context.getBundle())), properties);
    }

    /** A manager with the given surroundings and ConfigAdmin properties (used when there is no settings file). */
    public StrategyManager(Environment env, Map<String, ?> properties) {
        this.env = env;
        this.file = new SettingsFile(env.etcDir());
        StrategySettings start = initialSettings(properties);
        this.settings = start;
        this.lastChangeNanos = startedNanos;
        this.scheduler = new ScheduledThreadPoolExecutor(1, new NamedThreadFactory("midimesh-strategy", false));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.swapThreads = new ThreadPoolExecutor(start.swapThreads(), start.swapThreads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory("midimesh-strategy-swap", true));
        this.swapThreads.allowCoreThreadTimeOut(true);
        this.eventThreads = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new NamedThreadFactory("midimesh-strategy-events", true));
        this.eventThreads.allowCoreThreadTimeOut(true);
        boolean unreadable;
        synchronized (fileLock) {
            unreadable = fileUnreadable;
        }
        if (!unreadable) { // an unreadable file stays as it is until the next change (then it is moved aside)
            persist();
        }
        scheduleTick(0);
        if (start.graceMs() > 0) {
            schedule(this::reconcileAndLog, start.graceMs() + 1);
        }
        LOG.info("strategy manager activated: default {}, canary {}, {} pin(s), policy {}, settings in {}",
                start.defaultStrategy(), describe(start.canary()), start.pins().size(),
                start.policy().mode().wireName(), file.path());
    }

    private static boolean isStopping(Bundle b) {
        return b != null && b.getState() == Bundle.STOPPING;
    }

    /** The file wins over ConfigAdmin (it is what FileInstall loads anyway); {@code --strategy} wins over both. */
    private StrategySettings initialSettings(Map<String, ?> properties) {
        StrategySettings s = StrategySettings.DEFAULTS;
        Map<String, ?> source = properties == null ? Map.of() : properties;
        String from = "ConfigAdmin";
        try {
            Optional<Map<String, String>> onDisk = file.read();
            if (onDisk.isPresent()) {
                source = onDisk.get();
                from = file.path().toString();
            }
        } catch (IOException e) {
            LOG.error("cannot read {}: {}; starting from the defaults", file.path(), e.toString());
            synchronized (fileLock) {
                fileUnreadable = true;
            }
        }
        try {
            s = StrategySettings.parse(source);
        } catch (IllegalArgumentException e) {
            LOG.error("strategy settings in {} rejected: {}; starting from the defaults, the file is kept aside at "
                    + "the next change", from, e.getMessage());
            synchronized (fileLock) {
                fileUnreadable = true;
            }
        }
        if (env.strategyOption().isPresent()) {
            String cli = env.strategyOption().get();
            if (!cli.equals(s.defaultStrategy())) {
                LOG.info("--strategy {} overrides the default {} from {}", cli, s.defaultStrategy(), from);
            }
            s = s.withDefault(cli);
        }
        return s;
    }

    /**
     * A change of the configuration: from FileInstall (the file was edited, or it saw our own write) or from someone
     * updating the PID in ConfigAdmin. What FileInstall delivers can be stale (it may have read the file just before
     * we rewrote it), so for a change that names the file the file's content now is what applies.
     */
    @Modified
    void modified(Map<String, Object> properties) {
        Map<String, ?> source = properties;
        if (properties.get("felix.fileinstall.filename") != null) {
            try {
                Optional<Map<String, String>> now = file.read();
                if (now.isPresent()) {
                    source = now.get();
                }
            } catch (IOException e) {
                LOG.warn("cannot read {} ({}); applying what FileInstall delivered", file.path(), e.toString());
            }
        }
        StrategySettings next;
        try {
            next = StrategySettings.parse(source);
        } catch (IllegalArgumentException e) {
            LOG.error("strategy settings from {} rejected: {}; the current ones stay", source(properties),
                    e.getMessage());
            return;
        }
        boolean changed;
        lock.lock();
        try {
            StrategySettings now = settings;
            changed = !next.equals(now);
            if (changed) {
                noteChange(now, next);
                settings = next;
            }
        } finally {
            lock.unlock();
        }
        if (changed) {
            AUDIT.info("strategy settings changed through {}: default {}, canary {}, {} pin(s), policy {}",
                    source(properties), next.defaultStrategy(), describe(next.canary()), next.pins().size(),
                    next.policy().mode().wireName());
            persist();
            schedule(this::reconcileAndLog, 0);
        }
    }

    private static String source(Map<String, ?> properties) {
        Object f = properties.get("felix.fileinstall.filename");
        return f == null ? "ConfigAdmin" : String.valueOf(f);
    }

    @Deactivate
    void deactivate() {
        stopping = true;
        scheduler.shutdownNow();
        swapThreads.shutdown();
        eventThreads.shutdown();
        boolean inTime = await(swapThreads, "midimesh-strategy-swap-*") & await(scheduler, "midimesh-strategy")
                & await(eventThreads, "midimesh-strategy-events-*");
        LOG.info("strategy manager deactivated with {} live connection(s){}", live.size(),
                inTime ? "" : ", some threads did not stop in time");
    }

    private static boolean await(ThreadPoolExecutor pool, String threads) {
        try {
            if (pool.awaitTermination(2, TimeUnit.SECONDS)) {
                return true;
            }
            pool.shutdownNow();
            LOG.error("threads {} did not stop within 2 s", threads);
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /**
     * Warms every bound strategy that can ({@link Warmable}), one after the other, each on a private instance of its
     * own (see theirs), sharing the budget. Reads the slots without the lock (a volatile read of an immutable value);
     * calls out with no lock held. On the node's warm-up thread.
     */
    @Override
    public String warmUp(Duration budget) {
        List<Slot> all = slots.all();
        if (all.isEmpty()) {
            return "no strategy";
        }
        Duration each = budget.dividedBy(all.size());
        List<String> done = new ArrayList<>();
        for (Slot slot : all) {
            if (Thread.currentThread().isInterrupted()) {
                break;
            }
            if (slot.strategy() instanceof Warmable w) {
                done.add(slot.name() + " " + w.warmUp(each));
            }
        }
        return String.join(", ", done);
    }

    // ==== strategies coming and going (SCR threads) ==================================================================

    @Reference(service = ConnectionStrategy.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindStrategy(ConnectionStrategy strategy, Map<String, Object> properties) {
        Slot slot = slotOf(strategy, properties);
        lock.lock();
        try {
            slots = slots.with(slot);
        } finally {
            lock.unlock();
        }
        LOG.info("connection strategy {} available", slot);
        schedule(this::reconcileAndLog, 0);
    }

    void updatedStrategy(ConnectionStrategy strategy, Map<String, Object> properties) {
        Slot slot = slotOf(strategy, properties);
        lock.lock();
        try {
            Slots s = slots;
            for (Slot old : s.all()) {
                if (old.strategy() == strategy) {
                    s = s.without(old);
                }
            }
            slots = s.with(slot);
        } finally {
            lock.unlock();
        }
        LOG.info("connection strategy {} changed its properties", slot);
        schedule(this::reconcileAndLog, 0);
    }

    /**
     * The strategy is going away: its connections move to what the settings choose among the others (or wait in the
     * parking place) before this returns, bounded by the swap timeout. Nothing moves when the framework stops.
     */
    void unbindStrategy(ConnectionStrategy strategy, Map<String, Object> properties) {
        Slot leaving = null;
        lock.lock();
        try {
            for (Slot s : slots.all()) {
                if (s.strategy() == strategy) {
                    leaving = s;
                    slots = slots.without(s);
                }
            }
        } finally {
            lock.unlock();
        }
        if (leaving == null) {
            return;
        }
        if (stopping || env.frameworkStopping().getAsBoolean()) {
            LOG.info("connection strategy {} gone while stopping; nothing moved", leaving);
            return;
        }
        Slot gone = leaving;
        long on = live.stream().filter(c -> c.running().slot().equals(gone)).count();
        LOG.info("connection strategy {} leaving; moving its {} connection(s)", gone, on);
        // Every connection, not only those on it now: a move that chose it before it left may still land there; its
        // mover holds the connection's move lock, so ours comes after and finds it (moveOne's mustLeave).
        List<ManagedConnection> all = List.copyOf(live);
        SwapResult r = moveAll(all);
        for (ManagedConnection c : all) {
            if (c.running().slot().equals(gone) && !c.isClosed()) {
                LOG.error("{} could not leave {} in time; it waits for a strategy, without what was in flight", c,
                        gone);
                c.evict(parked, settings.swapTimeoutMs());
            }
        }
        LOG.info("connection strategy {} left: {} connection(s) moved in {} ms{}", gone, r.migrated(), r.tookMs(),
                r.failures().isEmpty() ? "" : ", " + r.failures().size() + " not cleanly");
    }

    private static Slot slotOf(ConnectionStrategy strategy, Map<String, Object> properties) {
        Object p = properties == null ? null : properties.get(ConnectionStrategy.STRATEGY_PROPERTY);
        String name = p instanceof String s && !s.isBlank() ? s : strategy.name();
        Object r = properties == null ? null : properties.get(Constants.SERVICE_RANKING);
        int ranking = r instanceof Integer i ? i : 0;
        Object id = properties == null ? null : properties.get(Constants.SERVICE_ID);
        long serviceId = id instanceof Long l ? l : System.identityHashCode(strategy);
        return new Slot(name, strategy, ranking, serviceId);
    }

    // ==== connections ================================================================================================

    @Override
    public NetworkConnection open(ConnectionContext context) {
        Objects.requireNonNull(context, "context");
        if (stopping) {
            throw new IllegalStateException("the strategy manager is stopping");
        }
        Slot target = targetFor(Optional.empty(), slots, settings, inGrace());
        ManagedConnection c = new ManagedConnection(serials.incrementAndGet(), context, this, sink -> {
            if (!target.isParked()) {
                try {
                    ConnectionEngine e = target.strategy().create(context, sink);
                    if (e != null) {
                        return new ManagedConnection.Made(target, e);
                    }
                    LOG.error("strategy {} returned no engine; the connection waits for another", target);
                } catch (RuntimeException e) {
                    LOG.warn("strategy {} could not make a connection ({}); it waits for another", target,
                            e.toString());
                }
            }
            return new ManagedConnection.Made(parked, parking.create(context, sink));
        });
        live.add(c);
        if (c.running().slot().isParked() && !target.isParked()) {
            schedule(this::reconcileAndLog, 0);
        }
        return c;
    }

    @Override
    public QueryMeter meterFor(Slot slot) {
        return stats.meterFor(slot.name());
    }

    @Override
    public void connected(ManagedConnection c) {
        if (!stopping && !targetFor(c.peer(), slots, settings, inGrace()).equals(c.running().slot())) {
            schedule(() -> reconcile(List.of(c), "its peer is known"), 0);
        }
    }

    @Override
    public void closed(ManagedConnection c) {
        live.remove(c);
    }

    @Override
    public Executor eventThreads() {
        return eventThreads;
    }

    @Override
    public Executor gateHelper() {
        return swapThreads;
    }

    private boolean inGrace() {
        return System.nanoTime() - startedNanos < TimeUnit.MILLISECONDS.toNanos(settings.graceMs());
    }

    /**
     * Where a connection to {@code peer} belongs: its pin, else the canary if its peer falls in the share, else the
     * default; if that strategy is not there, during the start-up grace the parking place (it is probably about to
     * come), after it the default, else {@code mutex}, else any strategy, else the parking place.
     */
    Slot targetFor(Optional<NodeId> peer, Slots bound, StrategySettings s, boolean grace) {
        String want = peer.map(s.pins()::get).orElse(null);
        if (want == null) {
            Canary c = s.canary();
            want = c.active() && peer.isPresent() && bucket(peer.get()) < c.percent() ? c.strategy()
                    : s.defaultStrategy();
        }
        Optional<Slot> slot = bound.active(want);
        if (slot.isPresent()) {
            return slot.get();
        }
        if (grace) {
            return parked;
        }
        return bound.active(s.defaultStrategy()).or(() -> bound.active(StrategySettings.DEFAULT_STRATEGY))
                .or(() -> bound.all().stream().findFirst()).orElse(parked);
    }

    /**
     * The peer's place in the canary order, 0..99: the 64-bit finalizer of MurmurHash3 over the node id's two halves,
     * modulo 100. Stable across restarts and versions (docs/operations.md gives it), and a bigger share keeps the peers
     * of a smaller one.
     */
    static int bucket(NodeId peer) {
        long h = peer.uuid().getMostSignificantBits() * 0x9E3779B97F4A7C15L ^ peer.uuid().getLeastSignificantBits();
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) Math.floorMod(h, 100L);
    }

    // ==== moving =====================================================================================================

    private void reconcileAndLog() {
        reconcile(List.copyOf(live), "the settings or strategies changed");
    }

    /** Brings every connection in {@code cs} to where it belongs now, in parallel; waits for them. */
    private SwapResult reconcile(Collection<ManagedConnection> cs, String why) {
        SwapResult r = moveAll(cs);
        if (r.migrated() > 0 || !r.failures().isEmpty()) {
            LOG.info("{} connection(s) moved in {} ms ({}){}", r.migrated(), r.tookMs(), why,
                    r.failures().isEmpty() ? "" : "; " + r.failures().size() + " could not: " + r.failures());
        }
        return r;
    }

    private SwapResult moveAll(Collection<ManagedConnection> cs) {
        long t0 = System.nanoTime();
        long timeoutMs = settings.swapTimeoutMs();
        List<Future<ManagedConnection.Outcome>> futures = new ArrayList<>(cs.size());
        List<String> failures = new ArrayList<>();
        for (ManagedConnection c : cs) {
            try {
                futures.add(swapThreads.submit(() -> moveOne(c, timeoutMs)));
            } catch (RejectedExecutionException e) {
                failures.add(c + ": the strategy manager is stopping");
            }
        }
        int migrated = 0;
        long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(2 * timeoutMs + 1000);
        for (Future<ManagedConnection.Outcome> f : futures) {
            try {
                ManagedConnection.Outcome o = f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (o.moved()) {
                    migrated++;
                }
                o.failure().ifPresent(failures::add);
            } catch (TimeoutException e) {
                failures.add("a move did not finish in " + (2 * timeoutMs + 1000) + " ms");
            } catch (ExecutionException e) {
                LOG.error("a move failed", e.getCause());
                failures.add("a move failed: " + e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add("interrupted while waiting for moves");
                break;
            }
        }
        return new SwapResult(migrated, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), failures);
    }

    /**
     * One connection to where it belongs, unless closed; on a swap thread. A connection whose strategy is no longer
     * bound must leave it: if the target cannot adopt it, it waits in the parking place.
     */
    private ManagedConnection.Outcome moveOne(ManagedConnection c, long timeoutMs)
            throws InterruptedException {
        Slot from = c.running().slot();
        if (!c.moveLock.tryLock(timeoutMs, TimeUnit.MILLISECONDS)) {
            return new ManagedConnection.Outcome(false, from, Optional.of(c + ": another move held it for "
                    + timeoutMs + " ms"));
        }
        try {
            from = c.running().slot();
            Slots bound = slots;
            boolean mustLeave = !from.isParked() && !bound.contains(from);
            Slot to = targetFor(c.peer(), bound, settings, inGrace());
            if (c.isClosed() || to.equals(from)) {
                return new ManagedConnection.Outcome(false, from, Optional.empty());
            }
            return c.move(to, parked, mustLeave, TimeUnit.MILLISECONDS.toNanos(timeoutMs));
        } finally {
            c.moveLock.unlock();
        }
    }

    // ==== the API ====================================================================================================

    @Override
    public StrategyStatus status() {
        StrategySettings s = settings;
        Slots bound = slots;
        Map<String, Integer> counts = new TreeMap<>(connectionCounts());
        for (String n : bound.names()) {
            counts.putIfAbsent(n, 0);
        }
        return new StrategyStatus(s.defaultStrategy(), s.canary(), bound.names(), counts, s.pins(), s.policy(),
                degraded(s, bound));
    }

    private Optional<String> degraded(StrategySettings s, Slots bound) {
        if (bound.isEmpty()) {
            return Optional.of("no connection strategy is available: connections keep their peers but send nothing "
                    + "until one is installed");
        }
        if (bound.active(s.defaultStrategy()).isEmpty()) {
            return Optional.of("default strategy " + s.defaultStrategy() + " is not available; its connections run "
                    + targetFor(Optional.empty(), bound, s, false).name());
        }
        if (s.canary().active() && bound.active(s.canary().strategy()).isEmpty()) {
            return Optional.of("canary strategy " + s.canary().strategy() + " is not available; its share runs "
                    + s.defaultStrategy());
        }
        return Optional.empty();
    }

    @Override
    public SwapResult change(StrategyChange change) {
        Objects.requireNonNull(change, "change");
        StrategySettings before;
        StrategySettings after;
        lock.lock();
        try {
            before = settings;
            after = before;
            if (change.defaultStrategy().isPresent()) {
                after = after.withDefault(requireAvailable("default", change.defaultStrategy().get()));
            }
            if (change.canary().isPresent()) {
                Canary c = change.canary().get();
                if (c.active()) {
                    requireAvailable("canary.strategy", c.strategy());
                }
                after = after.withCanary(c);
            }
            if (!after.equals(before)) {
                noteChange(before, after);
                settings = after;
            }
        } finally {
            lock.unlock();
        }
        if (!after.equals(before)) {
            AUDIT.info("strategy settings changed: default {} -> {}, canary {} -> {}", before.defaultStrategy(),
                    after.defaultStrategy(), describe(before.canary()), describe(after.canary()));
            persist();
        }
        return reconcile(List.copyOf(live), "the settings changed");
    }

    /** Caller holds lock. Remembers what rollback and the policy need to know about a change. */
    private void noteChange(StrategySettings before, StrategySettings after) {
        if (!before.defaultStrategy().equals(after.defaultStrategy())) {
            previousDefault = before.defaultStrategy();
        }
        if (!before.defaultStrategy().equals(after.defaultStrategy()) || !before.canary().equals(after.canary())
                || !before.pins().equals(after.pins())) {
            lastChangeNanos = System.nanoTime();
        }
    }

    /** Caller holds lock. */
    private String requireAvailable(String field, String name) {
        if (name == null || !StrategySettings.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(field + " must be a strategy name, not '" + name + "'");
        }
        if (slots.active(name).isEmpty()) {
            throw new IllegalArgumentException(field + ": no strategy named " + name + " is available (available: "
                    + String.join(", ", slots.names()) + ")");
        }
        return name;
    }

    @Override
    public SwapResult pin(NodeId peer, String strategy) {
        Objects.requireNonNull(peer, "peer");
        List<ManagedConnection> of = connectionsOf(peer);
        if (of.isEmpty()) {
            throw new NoSuchElementException("no connection to node " + peer);
        }
        lock.lock();
        try {
            requireAvailable("strategy", strategy);
            StrategySettings before = settings;
            Map<NodeId, String> pins = new LinkedHashMap<>(before.pins());
            pins.put(peer, strategy);
            StrategySettings after = before.withPins(pins);
            noteChange(before, after);
            settings = after;
        } finally {
            lock.unlock();
        }
        AUDIT.info("connection to {} pinned to strategy {}", peer, strategy);
        persist();
        return reconcile(of, "a pin changed");
    }

    @Override
    public SwapResult unpin(NodeId peer) {
        Objects.requireNonNull(peer, "peer");
        List<ManagedConnection> of = connectionsOf(peer);
        boolean pinned;
        lock.lock();
        try {
            StrategySettings before = settings;
            pinned = before.pins().containsKey(peer);
            if (pinned) {
                Map<NodeId, String> pins = new LinkedHashMap<>(before.pins());
                pins.remove(peer);
                StrategySettings after = before.withPins(pins);
                noteChange(before, after);
                settings = after;
            }
        } finally {
            lock.unlock();
        }
        if (!pinned && of.isEmpty()) {
            throw new NoSuchElementException("node " + peer + " has neither a pin nor a connection");
        }
        if (pinned) {
            AUDIT.info("pin of the connection to {} removed", peer);
            persist();
        }
        return reconcile(of, "a pin changed");
    }

    private List<ManagedConnection> connectionsOf(NodeId peer) {
        return live.stream().filter(c -> c.peer().equals(Optional.of(peer))).toList();
    }

    @Override
    public SwapResult rollback(String reason) {
        long t0 = System.nanoTime();
        PolicyDecision d = rollbackLocked("operator", new Verdict(Action.ROLLBACK, reason == null || reason.isBlank()
                ? "asked for by an operator" : reason, Map.of()), true);
        if (d.applied()) {
            AUDIT.info("rollback: {} ({})", d.change(), d.verdict().reason());
            persist();
        }
        SwapResult r = reconcile(List.copyOf(live), "rollback");
        return new SwapResult(r.migrated(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), r.failures());
    }

    /**
     * Switches the canary off and, with {@code restoreDefault} (a person's rollback of everything), restores the
     * default before the last change of it; records the decision. The policy rolls back only the canary it judged.
     */
    private PolicyDecision rollbackLocked(String source, Verdict verdict, boolean restoreDefault) {
        lock.lock();
        try {
            StrategySettings before = settings;
            StrategySettings after = before;
            List<String> what = new ArrayList<>();
            String taken = null;
            if (before.canary().active()) {
                Canary c = before.canary();
                after = after.withCanary(new Canary(c.strategy(), 0, c.steps()));
                what.add("canary " + c.strategy() + " " + c.percent() + "% -> 0%");
                taken = c.strategy();
            }
            if (restoreDefault && previousDefault != null && !previousDefault.equals(before.defaultStrategy())) {
                what.add("default " + before.defaultStrategy() + " -> " + previousDefault);
                taken = before.defaultStrategy();
                after = after.withDefault(previousDefault);
            }
            if (restoreDefault) {
                previousDefault = null;
            }
            if (taken != null) {
                rolledBack = taken;
                rolledBackNanos = System.nanoTime();
                lastChangeNanos = rolledBackNanos;
                settings = after;
            }
            PolicyDecision d = new PolicyDecision(Instant.now(), source, verdict, taken != null,
                    String.join(", ", what));
            record(d);
            return d;
        } finally {
            lock.unlock();
        }
    }

    /** Caller holds lock. */
    private void record(PolicyDecision d) {
        decisions.addLast(d);
        while (decisions.size() > DECISIONS_KEPT) {
            decisions.removeFirst();
        }
    }

    /**
     * The figures and verdict of the last sample (every window/12), with the roles and connection counts of now, so
     * a report read right after a change shows where connections run.
     */
    @Override
    public StrategyReport report() {
        StrategyReport r = lastReport;
        if (r == null) {
            return new StrategyReport(Instant.now(), 0, List.of(), new Verdict(Action.KEEP, "no figures yet",
                    Map.of()));
        }
        StrategySettings s = settings;
        Map<String, Integer> counts = connectionCounts();
        Map<String, StrategyReport.Figures> sampled = new HashMap<>();
        r.strategies().forEach(f -> sampled.put(f.strategy(), f));
        List<StrategyReport.Figures> rows = new ArrayList<>();
        for (String n : reportedNames(s)) {
            StrategyReport.Figures f = sampled.get(n);
            rows.add(f == null ? new StrategyReport.Figures(n, role(s, n), counts.getOrDefault(n, 0), 0, 0, 0, 0, 0.0,
                    0, 0, 0) : new StrategyReport.Figures(n, role(s, n), counts.getOrDefault(n, 0), f.queries(),
                            f.p50Ns(), f.p99Ns(), f.p999Ns(), f.contentionPercent(), f.stalls(), f.errors(),
                            f.droppedMessages()));
        }
        return new StrategyReport(r.at(), r.windowMs(), rows, r.verdict());
    }

    /** The strategies a report shows: those bound, the default and the canary, in name order. */
    private Set<String> reportedNames(StrategySettings s) {
        Set<String> names = new java.util.TreeSet<>(slots.names());
        names.add(s.defaultStrategy());
        if (s.canary().active()) {
            names.add(s.canary().strategy());
        }
        return names;
    }

    private Map<String, Integer> connectionCounts() {
        Map<String, Integer> counts = new HashMap<>();
        for (ManagedConnection c : live) {
            counts.merge(c.running().slot().name(), 1, Integer::sum);
        }
        return counts;
    }

    private static String role(StrategySettings s, String name) {
        return name.equals(s.defaultStrategy()) ? "default"
                : s.canary().active() && name.equals(s.canary().strategy()) ? "canary" : "other";
    }

    @Override
    public List<PolicyDecision> decisions() {
        lock.lock();
        try {
            List<PolicyDecision> out = new ArrayList<>(decisions);
            java.util.Collections.reverse(out);
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SortedMap<String, ConnectionMetrics> metricsByStrategy() {
        SortedMap<String, ConnectionMetrics> out = new TreeMap<>();
        for (Map.Entry<String, List<Slot>> e : slots.byName().entrySet()) {
            ConnectionMetrics sum = null;
            for (Slot s : e.getValue()) {
                try {
                    ConnectionMetrics m = s.strategy().metrics();
                    sum = sum == null ? m : plus(sum, m);
                } catch (RuntimeException ex) {
                    LOG.warn("connection strategy {}: metrics() failed; left out", s, ex);
                }
            }
            if (sum != null) {
                out.put(e.getKey(), sum);
            }
        }
        return out;
    }

    /** The counters of two services of one name added (the latency percentiles are the first's: the active one). */
    private static ConnectionMetrics plus(ConnectionMetrics a, ConnectionMetrics b) {
        return new ConnectionMetrics(a.strategy(), a.totalQueries() + b.totalQueries(),
                a.mutexContentions() + b.mutexContentions(), a.callbacksDispatched() + b.callbacksDispatched(),
                a.commandsProcessed() + b.commandsProcessed(), a.queueDepth() + b.queueDepth(), a.queryLatency(),
                a.errors() + b.errors(), a.droppedMessages() + b.droppedMessages(), a.stalls() + b.stalls());
    }

    // ==== the window, the report and the policy (scheduler thread) ===================================================

    private void scheduleTick(long delayMs) {
        schedule(this::tick, delayMs);
    }

    private void tick() {
        try {
            StrategySettings s = settings;
            long window = s.policy().windowMs();
            stats.sample(System.nanoTime(), slots.all(), window);
            Map<String, Figures> figures = stats.figures(window);
            Verdict verdict;
            CanaryPolicy.Memory memory;
            lock.lock();
            try {
                long now = System.nanoTime();
                memory = new CanaryPolicy.Memory(TimeUnit.NANOSECONDS.toMillis(now - lastChangeNanos),
                        Optional.ofNullable(rolledBack), TimeUnit.NANOSECONDS.toMillis(now - rolledBackNanos));
            } finally {
                lock.unlock();
            }
            verdict = CanaryPolicy.evaluate(s, figures, new HashSet<>(slots.names()), memory);
            lastReport = buildReport(s, figures, verdict);
            act(s, verdict);
        } catch (RuntimeException e) {
            LOG.error("the strategy report failed; trying again at the next tick", e);
        } finally {
            long tickMs = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, settings.policy().windowMs()
                    / SAMPLES_PER_WINDOW));
            scheduleTick(tickMs);
        }
    }

    private StrategyReport buildReport(StrategySettings s, Map<String, Figures> figures, Verdict verdict) {
        Map<String, Integer> counts = connectionCounts();
        long span = 0;
        List<StrategyReport.Figures> rows = new ArrayList<>();
        for (String n : reportedNames(s)) {
            Figures f = figures.get(n);
            String role = role(s, n);
            if (f == null) {
                rows.add(new StrategyReport.Figures(n, role, counts.getOrDefault(n, 0), 0, 0, 0, 0, 0.0, 0, 0, 0));
                continue;
            }
            span = Math.max(span, f.spanMs());
            rows.add(new StrategyReport.Figures(n, role, counts.getOrDefault(n, 0), f.totals().queries(),
                    f.latency().p50Ns(), f.latency().p99Ns(), f.latency().p999Ns(), f.contentionPercent(),
                    f.totals().stalls(), f.totals().errors(), f.totals().dropped()));
        }
        return new StrategyReport(Instant.now(), span, rows, verdict);
    }

    /**
     * Records a verdict when it changes, and in auto mode acts on it: a rollback at once, a promotion unless an action
     * was taken within the hold-down.
     */
    private void act(StrategySettings s, Verdict verdict) {
        boolean auto = s.policy().mode() == PolicyMode.AUTO;
        PolicyDecision applied = null;
        lock.lock();
        try {
            Action previous = lastRecordedAction;
            lastRecordedAction = verdict.action();
            if (verdict.action() == Action.KEEP) {
                if (previous != Action.KEEP) {
                    record(new PolicyDecision(Instant.now(), "policy", verdict, false, ""));
                }
                return;
            }
            long now = System.nanoTime();
            // The hold-down delays promotions only: a rollback is the way back to safety and never waits (re-promoting
            // what was rolled back is held down by the policy's memory instead).
            boolean heldDown = verdict.action() == Action.PROMOTE && lastActionNanos != Long.MIN_VALUE
                    && now - lastActionNanos < TimeUnit.MILLISECONDS.toNanos(s.policy().holdDownMs());
            if (!auto || heldDown) {
                if (previous != verdict.action()) {
                    record(new PolicyDecision(Instant.now(), "policy", heldDown ? new Verdict(verdict.action(),
                            verdict.reason() + " (held down: the last action was "
                                    + TimeUnit.NANOSECONDS.toMillis(now - lastActionNanos) + " ms ago)",
                            verdict.figures()) : verdict, false, ""));
                }
                return;
            }
        } finally {
            lock.unlock();
        }
        if (verdict.action() == Action.ROLLBACK) {
            applied = rollbackLocked("policy", verdict, false);
        } else {
            applied = promote(verdict);
        }
        lock.lock();
        try {
            lastActionNanos = System.nanoTime();
            lastRecordedAction = Action.KEEP; // the next verdict about the new situation is news again
        } finally {
            lock.unlock();
        }
        if (applied.applied()) {
            LOG.info("canary policy: {}: {}", applied.change(), verdict.reason());
            persist();
            reconcile(List.copyOf(live), "the canary policy acted");
        }
    }

    /** Applies a promote verdict: the next canary step, or the canary (or the candidate) as the default. */
    private PolicyDecision promote(Verdict verdict) {
        lock.lock();
        try {
            StrategySettings before = settings;
            StrategySettings after;
            String change;
            Canary c = before.canary();
            if (c.active()) {
                Optional<Integer> next = c.steps().stream().filter(p -> p > c.percent()).findFirst();
                if (next.isPresent() && next.get() < 100) {
                    after = before.withCanary(new Canary(c.strategy(), next.get(), c.steps()));
                    change = "canary " + c.strategy() + " " + c.percent() + "% -> " + next.get() + "%";
                } else {
                    after = before.withDefault(c.strategy()).withCanary(new Canary(c.strategy(), 0, c.steps()));
                    change = "default " + before.defaultStrategy() + " -> " + c.strategy() + " (canary promoted)";
                }
            } else {
                String candidate = before.policy().candidate();
                if (!c.steps().isEmpty()) {
                    after = before.withCanary(new Canary(candidate, c.steps().get(0), c.steps()));
                    change = "canary " + candidate + " 0% -> " + c.steps().get(0) + "%";
                } else {
                    after = before.withDefault(candidate);
                    change = "default " + before.defaultStrategy() + " -> " + candidate;
                }
            }
            noteChange(before, after);
            settings = after;
            PolicyDecision d = new PolicyDecision(Instant.now(), "policy", verdict, true, change);
            record(d);
            return d;
        } finally {
            lock.unlock();
        }
    }

    // ==== plumbing ===================================================================================================

    private void schedule(Runnable task, long delayMs) {
        if (stopping) {
            return;
        }
        try {
            scheduler.schedule(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("strategy manager task failed", e);
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("strategy manager stopping; task dropped");
        }
    }

    /** Writes the current settings to the file (if they differ from it); a failure is logged, the change stays. */
    private void persist() {
        synchronized (fileLock) {
            try {
                if (fileUnreadable) {
                    if (java.nio.file.Files.exists(file.path())) {
                        Path aside = AtomicFiles.moveAside(file.path());
                        LOG.warn("the unreadable {} was moved to {}", file.path(), aside);
                    }
                    fileUnreadable = false;
                }
                file.write(settings);
            } catch (IOException e) {
                LOG.error("cannot write {}: {}; the change applies until the node stops", file.path(), e.toString());
            }
        }
    }

    private static String describe(Canary c) {
        return c.active() ? c.strategy() + " " + c.percent() + "%" : "off";
    }

    // ---- for tests ----

    /** Waits until the scheduler has run what was queued before this call (moves after a bind, a change). */
    void awaitIdle(long timeoutMs) throws InterruptedException, TimeoutException {
        java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
        scheduler.execute(() -> f.complete(null));
        try {
            f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    int liveConnections() {
        return live.size();
    }
}
