package org.midimesh.strategy.command;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.apache.felix.service.command.Descriptor;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.StrategyReport;
import org.midimesh.api.strategy.StrategyStatus;
import org.midimesh.api.strategy.SwapResult;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Gogo shell's {@code midimesh:*} commands for strategies: see the default and the canary and change them, pin a
 * peer, roll back, list the peers with their strategy, read the report and the decisions. Each command prints text
 * for a person and changes go through {@link StrategyControl} like the HTTP API's (and are audited the same way).
 * Runs on the shell's thread; a bad argument is answered with one line saying what is wrong, never a stack trace.
 */
@Component(service = StrategyCommands.class, property = {"osgi.command.scope=midimesh",
    "osgi.command.function=strategy", "osgi.command.function=canary", "osgi.command.function=rollback",
    "osgi.command.function=peers", "osgi.command.function=pin", "osgi.command.function=unpin",
    "osgi.command.function=report", "osgi.command.function=decisions"})
public final class StrategyCommands {

    private static final Logger AUDIT = LoggerFactory.getLogger("midimesh.audit");

    private final StrategyControl control;

    // Written by SCR (dynamic), read once per command on the shell thread; null without a mesh (peers then says so).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mesh mesh;

    @Activate
    public StrategyCommands(@Reference StrategyControl control) {
        this.control = control;
    }

    @Descriptor("show the default strategy, the canary, the available strategies and where connections run")
    public String strategy() {
        StrategyStatus s = control.status();
        StringBuilder b = new StringBuilder();
        b.append("default    ").append(s.defaultStrategy()).append('\n');
        b.append("canary     ").append(canary(s.canary())).append('\n');
        b.append("available  ").append(s.available().isEmpty() ? "(none)" : String.join(", ", s.available()))
                .append('\n');
        b.append("running    ").append(s.connections()).append('\n');
        b.append("pins       ").append(s.pins().isEmpty() ? "(none)" : s.pins()).append('\n');
        b.append("policy     ").append(s.policy().mode().wireName()).append(", window ").append(s.policy().windowMs())
                .append(" ms, candidate ").append(s.policy().candidate()).append('\n');
        s.degraded().ifPresent(d -> b.append("DEGRADED   ").append(d).append('\n'));
        return b.toString();
    }

    @Descriptor("make a strategy the default; every connection that is neither pinned nor in the canary moves to it")
    public String strategy(@Descriptor("strategy name, for example seda") String name) {
        return audited("default -> " + name, () -> control.change(StrategyChange.toDefault(name)));
    }

    @Descriptor("show the canary")
    public String canary() {
        return canary(control.status().canary()) + "\n";
    }

    @Descriptor("run a share of the connections (by the stable hash of their peer) with another strategy; 0 stops it")
    public String canary(@Descriptor("strategy name") String name, @Descriptor("share in percent, 0..100") int percent) {
        return canary(name, percent, "");
    }

    @Descriptor("as canary NAME PERCENT, with progressive steps the policy advances through after healthy windows")
    public String canary(@Descriptor("strategy name") String name, @Descriptor("share in percent, 0..100") int percent,
            @Descriptor("ascending percents separated by commas, for example 5,25,50,100") String steps) {
        List<Integer> list = new ArrayList<>();
        for (String p : steps.split(",")) {
            if (!p.isBlank()) {
                try {
                    list.add(Integer.parseInt(p.trim()));
                } catch (NumberFormatException e) {
                    return "canary: steps must be percents separated by commas, not '" + steps + "'\n";
                }
            }
        }
        Canary c;
        try {
            c = new Canary(name, percent, list);
        } catch (IllegalArgumentException e) {
            return "canary: " + e.getMessage() + "\n";
        }
        return audited("canary -> " + canary(c), () -> control.change(StrategyChange.toCanary(c)));
    }

    @Descriptor("roll back: the canary off and, if a strategy was promoted to default, the one before it back")
    public String rollback() {
        return rollback("asked for in the shell");
    }

    @Descriptor("roll back, with a reason for the decision log")
    public String rollback(@Descriptor("why, for the decision log") String reason) {
        return audited("rollback (" + reason + ")", () -> control.rollback(reason));
    }

    @Descriptor("pin the connection of a peer to a strategy (kept across restarts until unpinned)")
    public String pin(@Descriptor("the peer's node id") String node, @Descriptor("strategy name") String name) {
        Optional<NodeId> id = nodeId(node);
        if (id.isEmpty()) {
            return "pin: '" + node + "' is not a node id (a UUID)\n";
        }
        return audited("pin " + id.get() + " -> " + name, () -> control.pin(id.get(), name));
    }

    @Descriptor("remove the pin of a peer; its connection goes back to what the settings choose")
    public String unpin(@Descriptor("the peer's node id") String node) {
        Optional<NodeId> id = nodeId(node);
        if (id.isEmpty()) {
            return "unpin: '" + node + "' is not a node id (a UUID)\n";
        }
        return audited("unpin " + id.get(), () -> control.unpin(id.get()));
    }

    @Descriptor("list the peers with their state, strategy and pin")
    public String peers() {
        Mesh m = mesh;
        if (m == null) {
            return "the mesh is not running\n";
        }
        Map<NodeId, String> pins = control.status().pins();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-36s  %-16s  %-12s  %-8s  %s%n", "node",
                "name", "state", "strategy", "pinned"));
        for (NetworkConnection c : m.connections()) {
            Optional<NodeInfo> n = c.getRemoteNode();
            b.append(String.format(Locale.ROOT, "%-36s  %-16s  %-12s  %-8s  %s%n",
                    n.map(x -> x.id().toString()).orElse("(not known yet)"), n.map(NodeInfo::name).orElse(""),
                    c.getState().wireName(), c.strategy(),
                    n.map(x -> pins.getOrDefault(x.id(), "")).orElse("")));
        }
        return b.toString();
    }

    @Descriptor("the strategies side by side over the sliding window, and the policy's verdict")
    public String report() {
        StrategyReport r = control.report();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "window %d ms, at %s%n", r.windowMs(),
                r.at()));
        b.append(String.format(Locale.ROOT, "%-10s %-8s %6s %10s %9s %9s %9s %7s %6s %6s %7s%n", "strategy", "role",
                "conns", "queries", "p50 ns", "p99 ns", "p999 ns", "cont %", "stalls", "errors", "dropped"));
        for (StrategyReport.Figures f : r.strategies()) {
            b.append(String.format(Locale.ROOT, "%-10s %-8s %6d %10d %9d %9d %9d %7.2f %6d %6d %7d%n", f.strategy(),
                    f.role(), f.connections(), f.queries(), f.p50Ns(), f.p99Ns(), f.p999Ns(), f.contentionPercent(),
                    f.stalls(), f.errors(), f.droppedMessages()));
        }
        b.append("verdict: ").append(r.verdict().action().wireName()).append(": ").append(r.verdict().reason())
                .append('\n');
        return b.toString();
    }

    @Descriptor("the policy's decisions and the rollbacks, newest first")
    public String decisions() {
        List<PolicyDecision> ds = control.decisions();
        if (ds.isEmpty()) {
            return "no decisions yet\n";
        }
        StringBuilder b = new StringBuilder();
        for (PolicyDecision d : ds) {
            b.append(d.at()).append("  ").append(d.source()).append("  ").append(d.verdict().action().wireName())
                    .append(d.applied() ? "  applied: " + d.change() : "  (not applied)").append('\n')
                    .append("    ").append(d.verdict().reason()).append('\n');
        }
        return b.toString();
    }

    private interface Change {
        SwapResult run();
    }

    /** Runs a change, audits it, and says what it did; a refused change is one line. */
    private static String audited(String what, Change change) {
        try {
            SwapResult r = change.run();
            AUDIT.info("shell: {}: {} connection(s) moved in {} ms", what, r.migrated(), r.tookMs());
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s: %d connection(s) moved in %d ms%n",
                    what, r.migrated(), r.tookMs()));
            for (String f : r.failures()) {
                b.append("  not moved: ").append(f).append('\n');
            }
            return b.toString();
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
            return what + ": refused: " + e.getMessage() + "\n";
        }
    }

    private static String canary(Canary c) {
        String s = c.active() ? c.strategy() + " " + c.percent() + "%" : "off";
        return c.steps().isEmpty() ? s : s + " (steps " + c.steps() + ")";
    }

    private static Optional<NodeId> nodeId(String text) {
        try {
            return Optional.of(NodeId.parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
