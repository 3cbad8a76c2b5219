package org.midimesh.transport.udp.internal;

import java.util.Objects;
import java.util.Optional;

import org.midimesh.api.NodeId;

/** What {@link DatagramCodec#decode} made of a datagram: a packet, or why it is malformed. Immutable. */
public sealed interface DecodeResult {

    /** A well-formed packet. */
    record Decoded(Packet packet) implements DecodeResult {
        public Decoded {
            Objects.requireNonNull(packet, "packet");
        }
    }

    /**
     * A malformed datagram.
     *
     * @param reason the class of defect
     * @param detail what exactly is wrong, for a person reading the log
     * @param sender the sender node id when the datagram is long enough and has the right magic and version for its
     *               sender field to be read; empty otherwise
     */
    record Malformed(MalformedReason reason, String detail, Optional<NodeId> sender) implements DecodeResult {
        public Malformed {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
            Objects.requireNonNull(sender, "sender");
        }
    }
}
