package org.midimesh.routing.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.midimesh.api.NodeId;

/**
 * The routes at one moment, with the indexes forwarding needs. Deeply immutable, so it can be read by any thread
 * without a lock once published; the router builds a new one on every change.
 */
final class RouteSnapshot {

    /** Source of a route as the forwarding path looks it up (no range checks, unlike RouteEndpoint). */
    record SourceKey(NodeId node, int device) {
    }

    static final RouteSnapshot EMPTY = new RouteSnapshot(List.of());

    private static final Comparator<RouteState> HIGHEST_PRIORITY_FIRST =
            Comparator.comparingInt((RouteState r) -> r.priority).reversed();

    /** In creation order: the order in the file. */
    final List<RouteState> inCreationOrder;

    /** Highest priority first; equal priorities in creation order. */
    final List<RouteState> inForwardingOrder;

    final Map<String, RouteState> byId;

    /** Enabled routes only, per source, in forwarding order. */
    private final Map<SourceKey, List<RouteState>> enabledBySource;

    RouteSnapshot(List<RouteState> routesInCreationOrder) {
        this.inCreationOrder = List.copyOf(routesInCreationOrder);
        List<RouteState> sorted = new ArrayList<>(inCreationOrder);
        sorted.sort(HIGHEST_PRIORITY_FIRST); // List.sort is stable
        this.inForwardingOrder = List.copyOf(sorted);
        Map<String, RouteState> ids = new LinkedHashMap<>();
        Map<SourceKey, List<RouteState>> bySource = new HashMap<>();
        for (RouteState r : inForwardingOrder) {
            ids.put(r.id, r);
            if (r.enabled) {
                bySource.computeIfAbsent(new SourceKey(r.source.node(), r.source.deviceId()), k -> new ArrayList<>())
                        .add(r);
            }
        }
        this.byId = Collections.unmodifiableMap(ids);
        Map<SourceKey, List<RouteState>> frozen = new HashMap<>();
        bySource.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        this.enabledBySource = Map.copyOf(frozen);
    }

    /** The enabled routes from that source, highest priority first; empty when none. */
    List<RouteState> enabledFrom(NodeId node, int device) {
        return enabledBySource.getOrDefault(new SourceKey(node, device), List.of());
    }

    /** A new snapshot with {@code route} added at the end, or replacing the route with its id in place. */
    RouteSnapshot withRoute(RouteState route) {
        List<RouteState> next = new ArrayList<>(inCreationOrder.size() + 1);
        boolean replaced = false;
        for (RouteState r : inCreationOrder) {
            if (r.id.equals(route.id)) {
                next.add(route);
                replaced = true;
            } else {
                next.add(r);
            }
        }
        if (!replaced) {
            next.add(route);
        }
        return new RouteSnapshot(next);
    }

    RouteSnapshot without(String id) {
        List<RouteState> next = new ArrayList<>(inCreationOrder);
        next.removeIf(r -> r.id.equals(id));
        return new RouteSnapshot(next);
    }
}
