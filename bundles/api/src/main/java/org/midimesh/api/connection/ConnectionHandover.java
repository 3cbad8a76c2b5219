package org.midimesh.api.connection;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.midimesh.api.transport.DataFrame;

/**
 * Everything a live connection hands to its successor when it moves to another strategy (hot swap): the successor
 * continues where the predecessor stopped, in the same state, with the same peer, devices, heartbeat time, listeners,
 * and the MIDI the predecessor had accepted but not yet sent. Sequence numbers live in the transport, per peer, and so
 * are kept too. Immutable.
 *
 * @param lastHeartbeatNanos {@link System#nanoTime()} of the last heartbeat (or handshake), or {@link Long#MIN_VALUE}
 *                           if none
 * @param queuedFrames       frames accepted by {@link NetworkConnection#send} but not yet given to the link, in order
 */
public record ConnectionHandover(ConnectionContext context, ConnectionState state, Optional<Handshake> peer,
        long lastHeartbeatNanos, List<ConnectionListener> listeners, List<DataFrame> queuedFrames) {

    public ConnectionHandover {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(peer, "peer");
        listeners = List.copyOf(listeners);
        queuedFrames = List.copyOf(queuedFrames);
    }
}
