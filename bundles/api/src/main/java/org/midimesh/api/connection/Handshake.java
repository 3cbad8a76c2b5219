package org.midimesh.api.connection;

import java.util.List;
import java.util.Objects;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeInfo;

/**
 * What one side of a handshake tells the other: who it is, where to reach it, and its local devices. Immutable.
 */
public record Handshake(NodeInfo node, List<DeviceInfo> devices) {

    public Handshake {
        Objects.requireNonNull(node, "node");
        devices = List.copyOf(devices);
    }
}
