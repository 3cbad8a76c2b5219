package org.midimesh.api.routing;

import java.util.Objects;

import org.midimesh.api.NodeId;

/** A device on a node. Immutable. */
public record RouteEndpoint(NodeId node, int deviceId) {

    public RouteEndpoint {
        Objects.requireNonNull(node, "node");
        if (deviceId < 1 || deviceId > 0xffff) {
            throw new IllegalArgumentException("device_id must be 1..65535, not " + deviceId);
        }
    }
}
