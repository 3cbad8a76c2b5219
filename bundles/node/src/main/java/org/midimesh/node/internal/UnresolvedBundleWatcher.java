package org.midimesh.node.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.midimesh.api.health.BundleProblems;
import org.midimesh.common.NamedThreadFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.resource.Namespace;
import org.osgi.resource.Requirement;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds installed bundles (plugins dropped into {@code deploy/}, mostly) that cannot resolve because something they
 * require is not there, logs each once with what is missing, and offers the list to {@code /health}, which then says
 * {@code degraded}. The node keeps running without them.
 * <p>Threads: the framework delivers bundle and framework events on its event thread; they only schedule a check. The
 * check runs on this component's own thread ({@code midimesh-bundle-watch}), {@value #SETTLE_MS} ms after the last
 * event, so a batch of installs is looked at once, after FileInstall had its chance to start them. {@link #problems}
 * is read by anyone (HTTP threads) from a published immutable list.
 */
@Component(immediate = true, service = BundleProblems.class)
public final class UnresolvedBundleWatcher implements BundleProblems, BundleListener, FrameworkListener {

    static final long SETTLE_MS = 500;

    private static final Logger LOG = LoggerFactory.getLogger(UnresolvedBundleWatcher.class);
    private static final Pattern PACKAGE = Pattern.compile("\\(" + PackageNamespace.PACKAGE_NAMESPACE + "=([^)]+)\\)");
    private static final Pattern VERSION = Pattern.compile("\\((!?)\\(?version([<>]?=)([^)]+)\\)");

    private final BundleContext context;
    private final FrameworkWiring wiring;
    private final ScheduledExecutorService thread;
    // The next check: swapped in by whoever schedules (the framework's event thread), which cancels the one it
    // replaced. Publishes only the future.
    private final AtomicReference<ScheduledFuture<?>> pending = new AtomicReference<>();
    // The problems found by the last check: written by the watch thread, read by anyone; the volatile write publishes
    // the immutable list and its records.
    private volatile List<Problem> problems = List.of();
    // What was logged, by bundle id, so each problem is logged once: used only on the watch thread.
    private final Map<Long, String> logged = new HashMap<>();

    @Activate
    public UnresolvedBundleWatcher(BundleContext context) {
        this.context = context;
        this.wiring = context.getBundle(0).adapt(FrameworkWiring.class);
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                new NamedThreadFactory("midimesh-bundle-watch", false));
        t.setRemoveOnCancelPolicy(true);
        this.thread = t;
        context.addBundleListener(this);
        context.addFrameworkListener(this);
        schedule();
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(this);
        context.removeFrameworkListener(this);
        thread.shutdownNow();
    }

    @Override
    public List<Problem> problems() {
        return problems;
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        switch (event.getType()) {
            case BundleEvent.INSTALLED, BundleEvent.UPDATED, BundleEvent.UNRESOLVED, BundleEvent.RESOLVED,
                    BundleEvent.UNINSTALLED -> schedule();
            default -> {
            }
        }
    }

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
            schedule();
        }
    }

    private void schedule() {
        try {
            ScheduledFuture<?> replaced = pending.getAndSet(thread.schedule(this::check, SETTLE_MS,
                    TimeUnit.MILLISECONDS));
            if (replaced != null) {
                replaced.cancel(false);
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.trace("bundle event after deactivation ignored");
        }
    }

    /** On the watch thread. */
    private void check() {
        List<Problem> found = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        Bundle[] bundles;
        try {
            bundles = context.getBundles();
        } catch (IllegalStateException e) {
            return; // the framework is stopping
        }
        for (Bundle b : bundles) {
            if (b.getState() != Bundle.INSTALLED) {
                continue;
            }
            String missing = missing(b);
            if (missing == null) {
                continue; // nothing is missing: it is about to be resolved or started (FileInstall, a refresh)
            }
            String name = b.getSymbolicName() + " " + b.getVersion();
            Problem p = new Problem(name, b.getLocation(), missing);
            found.add(p);
            seen.add(b.getBundleId());
            if (!missing.equals(logged.put(b.getBundleId(), missing))) {
                LOG.error("bundle {} ({}) does not resolve: {}; the node runs without it", name, b.getLocation(),
                        missing);
            }
        }
        logged.keySet().removeIf(id -> {
            if (seen.contains(id)) {
                return false;
            }
            Bundle b = context.getBundle(id);
            LOG.info("bundle {} {}", b == null ? "#" + id : b.getSymbolicName() + " " + b.getVersion(),
                    b == null ? "was uninstalled" : "resolves now");
            return true;
        });
        problems = List.copyOf(found);
    }

    /** What the bundle requires and nothing installed provides, for a person; null when nothing is missing. */
    private String missing(Bundle b) {
        BundleRevision revision = b.adapt(BundleRevision.class);
        if (revision == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (Requirement r : revision.getRequirements(null)) {
            Map<String, String> d = r.getDirectives();
            if (Namespace.RESOLUTION_OPTIONAL.equals(d.get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE))) {
                continue;
            }
            String effective = d.get(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE);
            if (effective != null && !Namespace.EFFECTIVE_RESOLVE.equals(effective)) {
                continue;
            }
            if (wiring.findProviders(r).isEmpty()) {
                out.add(describe(r));
            }
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }

    /** {@code missing package a.b (version >= 1.0.0, < 2.0.0)}, or the namespace and filter for other kinds. */
    static String describe(Requirement r) {
        String filter = r.getDirectives().getOrDefault(Namespace.REQUIREMENT_FILTER_DIRECTIVE, "");
        if (!PackageNamespace.PACKAGE_NAMESPACE.equals(r.getNamespace())) {
            return "missing " + r.getNamespace() + " " + filter;
        }
        Matcher m = PACKAGE.matcher(filter);
        String pkg = m.find() ? m.group(1) : filter;
        List<String> versions = new ArrayList<>();
        Matcher v = VERSION.matcher(filter);
        while (v.find()) {
            boolean not = !v.group(1).isEmpty();
            String op = v.group(2);
            String bound = v.group(3);
            if (not) {
                op = switch (op) {
                    case ">=" -> "<";
                    case "<=" -> ">";
                    default -> "!=";
                };
            }
            versions.add(op + " " + bound);
        }
        return "missing package " + pkg + (versions.isEmpty() ? "" : " (version " + String.join(", ", versions) + ")");
    }
}
