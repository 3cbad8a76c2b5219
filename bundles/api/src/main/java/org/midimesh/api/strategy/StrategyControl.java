package org.midimesh.api.strategy;

import java.util.List;
import java.util.SortedMap;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.NetworkConnection;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The node's connection strategies: makes every connection and decides which strategy runs it. Thread-safe. The
 * changing methods block until every affected live connection has moved (bounded by the manager's swap timeout) and
 * never call out while holding a lock.
 */
@ProviderType
public interface StrategyControl {

    /**
     * A new connection (DISCONNECTED) to the peer {@code context} points at, run by the strategy the settings choose
     * for it: its pin, else the canary when its peer's stable hash falls in the canary share, else the default. Until
     * the peer is known (the first handshake) it runs the default. With no strategy available it still works as a
     * record of the peer (state, devices, heartbeat) but sends nothing, and moves to a strategy as soon as one comes.
     * The caller owns it and ends it with {@link NetworkConnection#close()}.
     */
    NetworkConnection open(ConnectionContext context);

    StrategyStatus status();

    /**
     * Changes the default and/or the canary, keeps the change (it survives restarts), and moves every live connection
     * whose strategy it changes.
     *
     * @throws IllegalArgumentException naming the field, for an unknown strategy or a percent outside 0..100
     */
    SwapResult change(StrategyChange change);

    /**
     * Pins the connection of {@code peer} to {@code strategy} (kept across restarts until removed) and moves it.
     *
     * @throws java.util.NoSuchElementException when there is no connection to that peer
     * @throws IllegalArgumentException         for an unknown strategy
     */
    SwapResult pin(NodeId peer, String strategy);

    /**
     * Removes the pin of {@code peer}; its connection moves back to what the settings choose.
     *
     * @throws java.util.NoSuchElementException when that peer has neither a pin nor a connection
     */
    SwapResult unpin(NodeId peer);

    /**
     * Returns every connection to the baseline: the canary is switched off and, when the policy or a person promoted a
     * strategy to default since the node started, the default before that comes back. Pins stay. Recorded as a
     * decision with {@code reason}.
     */
    SwapResult rollback(String reason);

    /** The strategies side by side over the sliding window, with the policy's verdict now. */
    StrategyReport report();

    /** The decisions so far (policy verdicts, automatic actions, rollbacks), newest first, at most the last 200. */
    List<PolicyDecision> decisions();

    /** Per available strategy, its totals since it started ({@code ConnectionStrategy.metrics()}), by name. */
    SortedMap<String, ConnectionMetrics> metricsByStrategy();
}
