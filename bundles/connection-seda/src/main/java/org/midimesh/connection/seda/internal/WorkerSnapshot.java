package org.midimesh.connection.seda.internal;

import java.util.List;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionState;

/**
 * Everything the worker of a {@link SedaConnectionEngine} owns, read by the worker itself between two commands, so
 * the fields belong to one and the same moment (what the lock-free snapshot queries cannot promise across fields).
 * Immutable: the future that carries it publishes it whole or not at all.
 *
 * @param lastHeartbeatNanos {@link System#nanoTime()} of the last heartbeat or handshake, {@link Long#MIN_VALUE} if
 *                           none
 * @param generation         bumped by every command that makes an outbound handshake in flight obsolete
 * @param handshakeInFlight  an outbound handshake was started and its result has not come back yet
 * @param commandsProcessed  commands the worker ran before this one
 * @param queueDepth         commands queued behind this one
 */
public record WorkerSnapshot(ConnectionState state, Optional<NodeInfo> remoteNode, List<DeviceInfo> devices,
        long lastHeartbeatNanos, long generation, boolean handshakeInFlight, long commandsProcessed, int queueDepth,
        boolean closed) {

    public WorkerSnapshot {
        devices = List.copyOf(devices);
    }
}
