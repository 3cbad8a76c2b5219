package org.midimesh.api.strategy.spi;

import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionState;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Where an engine reports what happens to its connection; the strategy manager passes these on to the connection's
 * listeners. An engine calls it on a thread of its strategy, never on the thread that issued the command, never
 * while holding a lock, and in order per engine; the call may take long (a listener is slow) and may call back into
 * the connection. Implemented by the manager.
 */
@ProviderType
public interface EngineEvents {

    void stateChanged(ConnectionState from, ConnectionState to);

    /** Something went wrong, for a person to read (handshake refused, heartbeat timeout). */
    void error(String message);

    /** The peer announced a new device list. */
    void devicesChanged(List<DeviceInfo> devices);
}
