package org.midimesh.api.transport;

import java.net.InetSocketAddress;

import org.midimesh.api.NodeId;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives decoded datagrams. Register as an OSGi service; the transport calls every registered listener on its
 * receive thread, so an implementation must not block: hand slow work to a thread of your own.
 */
@ConsumerType
public interface DatagramListener {

    /** MIDI for a local device arrived from {@code sender}. */
    default void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
    }

    /** A heartbeat (or a heartbeat reply, which also carries a round-trip time) arrived from {@code sender}. */
    default void heartbeatReceived(NodeId sender, InetSocketAddress from, long roundTripMicros) {
    }

    /** {@code sender} is shutting down. */
    default void goodbyeReceived(NodeId sender) {
    }
}
