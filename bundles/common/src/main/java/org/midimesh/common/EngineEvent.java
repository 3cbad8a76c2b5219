package org.midimesh.common;

import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.strategy.spi.EngineEvents;

/**
 * What a connection engine raises while it changes (under its lock or on its worker) and delivers later, off every
 * lock, to the manager's {@link EngineEvents}. Immutable (engines pass immutable device lists): an engine queues them
 * on one thread and delivers them on another, and the queue's hand-off is what publishes them.
 */
public sealed interface EngineEvent {

    /** Calls the {@code sink} method this event stands for; whatever the sink throws passes through. */
    void deliverTo(EngineEvents sink);

    /** The connection went from {@code from} to {@code to}. */
    record StateEvent(ConnectionState from, ConnectionState to) implements EngineEvent {
        @Override
        public void deliverTo(EngineEvents sink) {
            sink.stateChanged(from, to);
        }
    }

    /** Something went wrong, for a person to read. */
    record ErrorEvent(String message) implements EngineEvent {
        @Override
        public void deliverTo(EngineEvents sink) {
            sink.error(message);
        }
    }

    /** The peer announced a new device list. */
    record DevicesEvent(List<DeviceInfo> devices) implements EngineEvent {
        @Override
        public void deliverTo(EngineEvents sink) {
            sink.devicesChanged(devices);
        }
    }
}
