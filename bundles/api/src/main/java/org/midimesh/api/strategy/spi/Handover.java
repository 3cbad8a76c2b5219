package org.midimesh.api.strategy.spi;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.transport.DataFrame;

/**
 * Everything an engine hands to its successor when its connection moves to another strategy: the successor continues
 * where it stopped, in the same state, with the same peer, devices and heartbeat time, and first sends the MIDI the
 * engine had accepted but not yet sent. Sequence numbers live in the transport, per peer, and so are kept too; the
 * listeners belong to the stable connection and never move. Immutable.
 *
 * @param lastHeartbeatNanos {@link System#nanoTime()} of the last heartbeat (or handshake), or {@link Long#MIN_VALUE}
 *                           if none
 * @param queuedFrames       frames accepted by {@link ConnectionEngine#send} but not yet given to the link, in order
 */
public record Handover(ConnectionContext context, ConnectionState state, Optional<Handshake> peer,
        long lastHeartbeatNanos, List<DataFrame> queuedFrames) {

    public Handover {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(peer, "peer");
        queuedFrames = List.copyOf(queuedFrames);
    }
}
