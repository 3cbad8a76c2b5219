package org.midimesh.api.connection;

import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives a connection's events. Called on the strategy's notification thread, never under a lock, in order per
 * connection; an implementation may call back into the connection. It must not block for long: it delays the
 * events of other connections of the same strategy.
 */
@ConsumerType
public interface ConnectionListener {

    void stateChanged(NetworkConnection connection, ConnectionState from, ConnectionState to);

    /** Something went wrong, for a person to read (handshake refused, heartbeat timeout). */
    default void error(NetworkConnection connection, String message) {
    }

    /** The peer announced a new device list. */
    default void devicesChanged(NetworkConnection connection, List<DeviceInfo> devices) {
    }
}
