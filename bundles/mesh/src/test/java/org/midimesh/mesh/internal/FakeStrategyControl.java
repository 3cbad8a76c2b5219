package org.midimesh.mesh.internal;

import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.StrategyReport;
import org.midimesh.api.strategy.StrategyStatus;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.test.contract.HeldLocks;

/**
 * A {@link StrategyControl} whose {@link #open} returns a recording {@link FakeConnection}; the mesh needs nothing
 * else, so every other method throws. Thread-safe.
 */
final class FakeStrategyControl implements StrategyControl {

    /** Every connection opened, in order. */
    final List<FakeConnection> opened = new CopyOnWriteArrayList<>();
    final ConcurrentLinkedQueue<String> lockViolations = new ConcurrentLinkedQueue<>();
    private final boolean checkLocks;

    FakeStrategyControl(boolean checkLocks) {
        this.checkLocks = checkLocks;
    }

    FakeStrategyControl() {
        this(false);
    }

    /** The connections opened to {@code host}. */
    List<FakeConnection> openedTo(String host) {
        return opened.stream().filter(c -> c.context.host().equals(host)).toList();
    }

    /** Whether anyone asked any connection opened here which strategy runs it. */
    boolean anyStrategyAsked() {
        return opened.stream().anyMatch(c -> c.strategyAsked);
    }

    /** Every call into this or a connection opened here made while holding a lock. */
    List<String> allLockViolations() {
        List<String> all = new java.util.ArrayList<>(lockViolations);
        opened.forEach(c -> all.addAll(c.lockViolations));
        return all;
    }

    @Override
    public NetworkConnection open(ConnectionContext context) {
        if (checkLocks) {
            List<String> held = HeldLocks.ofCurrentThread();
            if (!held.isEmpty()) {
                lockViolations.add("open on " + Thread.currentThread().getName() + " holding " + held);
            }
        }
        FakeConnection c = new FakeConnection(context, checkLocks);
        opened.add(c);
        return c;
    }

    @Override
    public StrategyStatus status() {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public SwapResult change(StrategyChange change) {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public SwapResult pin(NodeId peer, String strategy) {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public SwapResult unpin(NodeId peer) {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public SwapResult rollback(String reason) {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public StrategyReport report() {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public List<PolicyDecision> decisions() {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }

    @Override
    public SortedMap<String, ConnectionMetrics> metricsByStrategy() {
        throw new UnsupportedOperationException("the mesh only opens connections");
    }
}
