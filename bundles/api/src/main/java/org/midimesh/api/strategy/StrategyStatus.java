package org.midimesh.api.strategy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.midimesh.api.NodeId;

/**
 * The strategy settings now and where the live connections run. Immutable.
 *
 * @param defaultStrategy the configured default (it may be unavailable: see {@code degraded})
 * @param available       the strategies that can run connections now, by name
 * @param connections     live connections per strategy name; {@code none} counts those waiting for any strategy
 * @param pins            pinned peers and their strategy
 * @param degraded        why the node cannot run connections as configured (no strategy at all, the default or the
 *                        canary missing); empty when it can
 */
public record StrategyStatus(String defaultStrategy, Canary canary, List<String> available,
        Map<String, Integer> connections, Map<NodeId, String> pins, PolicySettings policy,
        Optional<String> degraded) {

    public StrategyStatus {
        available = List.copyOf(available);
        connections = Map.copyOf(connections);
        pins = Map.copyOf(pins);
    }
}
