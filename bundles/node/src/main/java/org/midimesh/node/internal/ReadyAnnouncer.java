package org.midimesh.node.internal;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.midimesh.api.LocalNode;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.transport.TransportStats;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces that the node's parts are all up and warm: once the node, transport, devices, strategies, mesh and routing
 * are active it warms the MIDI path, then registers a marker service with property {@value #READY_PROPERTY}=true
 * carrying the bound ports and the default strategy. The launcher waits for it (and for /health) before printing the
 * ready line.
 * <p>The warm-up: each part of the path that is {@link Warmable} (the transport, the strategies, the device registry)
 * runs its own code on private objects, about 20,000 times a round, so the JIT compiles it before the first note
 * rather than during the first song (docs/benchmarks.md, "Warm-up"); rounds go on until the JIT is quiet, at most
 * {@link #MAX_WARM_UP}.
 * <p>Threads: activated and deactivated on SCR threads; the warm-up and the registration run on the thread
 * {@code midimesh-warmup}, which deactivation interrupts and joins. {@link #lock} guards {@link #registration} and
 * {@link #closed} (never held while calling the framework), so a registration racing with deactivation is undone by
 * one of the two.
 */
@Component(immediate = true, service = {})
public final class ReadyAnnouncer {

    public static final String READY_PROPERTY = "midimesh.ready";
    static final String THREAD_NAME = "midimesh-warmup";
    /** The most one part's warm-up takes in one round. */
    static final Duration PART_BUDGET = Duration.ofMillis(500);
    /** The warm-up stops after this even if the JIT is still busy. */
    static final Duration MAX_WARM_UP = Duration.ofSeconds(8);
    /** A round after which the compiler threads worked less than this share of its time ends the warm-up. */
    static final double QUIET_SHARE = 0.1;
    private static final long JOIN_MILLIS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(ReadyAnnouncer.class);

    private final BundleContext context;
    private final Thread warmup;
    private final Object lock = new Object();
    // Both under lock: written by the warm-up thread (registration) and by deactivate (closed).
    private ServiceRegistration<Object> registration;
    private boolean closed;

    @Activate
    public ReadyAnnouncer(BundleContext context, @Reference LocalNode node, @Reference TransportStats transport,
            @Reference Mesh mesh, @Reference DeviceRegistry devices, @Reference RoutingService routing,
            @Reference StrategyControl strategies) {
        this.context = context;
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(READY_PROPERTY, Boolean.TRUE);
        props.put("midimesh.name", node.name());
        props.put("midimesh.uuid", node.id().toString());
        props.put("midimesh.http", node.httpPort());
        props.put("midimesh.udp", transport.udpPort());
        props.put("midimesh.tcp", node.tcpPort());
        props.put("midimesh.strategy", strategies.status().defaultStrategy());
        props.put("midimesh.bind", node.bindAddress());
        Map<String, Object> parts = new LinkedHashMap<>();
        parts.put("transport", transport);
        parts.put("strategies", strategies);
        parts.put("devices", devices);
        this.warmup = new Thread(() -> {
            warmUp(parts);
            register(props);
        }, THREAD_NAME);
        warmup.setDaemon(true);
        warmup.start();
    }

    /**
     * On the warm-up thread: rounds of every part in turn, until the JIT has gone quiet or {@link #MAX_WARM_UP} has
     * passed. Quiet: the compiler threads worked less than {@link #QUIET_SHARE} of the last round's time. One round is
     * not enough on a node that has just started: the compilers still have seconds of start-up code queued, and the
     * JVM drops a queued compilation whose method has not run lately, so the path must stay busy until its turn comes.
     * A part that throws is logged and the rest go on.
     */
    private static void warmUp(Map<String, Object> parts) {
        long start = System.nanoTime();
        long deadline = start + MAX_WARM_UP.toNanos();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean measurable = jit != null && jit.isCompilationTimeMonitoringSupported();
        List<String> done = new ArrayList<>();
        int rounds = 0;
        boolean quiet = false;
        while (!quiet && System.nanoTime() - deadline < 0 && !Thread.currentThread().isInterrupted()) {
            long roundStart = System.nanoTime();
            long compiledBefore = measurable ? jit.getTotalCompilationTime() : 0;
            done.clear();
            for (Map.Entry<String, Object> part : parts.entrySet()) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                if (part.getValue() instanceof Warmable w) {
                    try {
                        done.add(part.getKey() + ": " + w.warmUp(PART_BUDGET));
                    } catch (RuntimeException e) {
                        LOG.warn("warming up the {} failed; the first messages may be late", part.getKey(), e);
                    }
                }
            }
            rounds++;
            long roundMillis = (System.nanoTime() - roundStart) / 1_000_000;
            long compiledMillis = measurable ? jit.getTotalCompilationTime() - compiledBefore : 0;
            quiet = !measurable || compiledMillis <= QUIET_SHARE * roundMillis;
        }
        LOG.info("warmed the MIDI path in {} ms, {} round(s){} (last round: {})",
                (System.nanoTime() - start) / 1_000_000, rounds, quiet ? "" : ", the JIT still busy at the limit",
                String.join("; ", done));
    }

    /** Registers the marker unless deactivation came first; never calls the framework under {@link #lock}. */
    private void register(Hashtable<String, Object> props) {
        synchronized (lock) {
            if (closed || Thread.currentThread().isInterrupted()) {
                return;
            }
        }
        ServiceRegistration<Object> r = context.registerService(Object.class, new Object(), props);
        boolean keep;
        synchronized (lock) {
            keep = !closed;
            if (keep) {
                registration = r;
            }
        }
        if (!keep) {
            unregister(r);
        }
    }

    private static void unregister(ServiceRegistration<Object> r) {
        try {
            r.unregister();
        } catch (IllegalStateException e) {
            // already gone with the bundle
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        warmup.interrupt();
        warmup.join(JOIN_MILLIS);
        if (warmup.isAlive()) {
            LOG.error("thread {} did not stop within {} ms", THREAD_NAME, JOIN_MILLIS);
        }
        ServiceRegistration<Object> r;
        synchronized (lock) {
            closed = true;
            r = registration;
            registration = null;
        }
        if (r != null) {
            unregister(r);
        }
    }
}
