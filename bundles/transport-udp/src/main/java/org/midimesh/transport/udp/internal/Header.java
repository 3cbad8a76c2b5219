package org.midimesh.transport.udp.internal;

import java.util.Objects;

import org.midimesh.api.NodeId;

/**
 * The fields every datagram carries after magic, version and type. Immutable.
 *
 * @param sender          node that sent the datagram
 * @param destination     node the datagram is for
 * @param sequence        u32, 0..{@link DatagramCodec#MAX_SEQUENCE}, per sender, destination and stream
 * @param timestampMicros sender's clock when sending, microseconds since the Unix epoch
 */
public record Header(NodeId sender, NodeId destination, long sequence, long timestampMicros) {

    public Header {
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(destination, "destination");
        if (sequence < 0 || sequence > DatagramCodec.MAX_SEQUENCE) {
            throw new IllegalArgumentException("sequence must be 0..4294967295 (u32), not " + sequence);
        }
    }

    /** The same header with another sequence number. */
    public Header withSequence(long newSequence) {
        return new Header(sender, destination, newSequence, timestampMicros);
    }
}
