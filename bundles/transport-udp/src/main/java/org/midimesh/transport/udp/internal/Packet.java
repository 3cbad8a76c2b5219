package org.midimesh.transport.udp.internal;

import java.util.Objects;

import org.midimesh.api.transport.DataFrame;

/** One decoded datagram (docs/protocol.md). Every implementation is an immutable record. */
public sealed interface Packet {

    Header header();

    PacketType type();

    /** Realtime MIDI for one device of the destination node. */
    record Data(Header header, DataFrame frame) implements Packet {
        public Data {
            Objects.requireNonNull(header, "header");
            Objects.requireNonNull(frame, "frame");
        }

        @Override
        public PacketType type() {
            return PacketType.DATA;
        }
    }

    /** Liveness probe; the receiving transport answers it with a {@link HeartbeatReply}. */
    record Heartbeat(Header header) implements Packet {
        public Heartbeat {
            Objects.requireNonNull(header, "header");
        }

        @Override
        public PacketType type() {
            return PacketType.HEARTBEAT;
        }
    }

    /** Answer to a heartbeat; echoes the heartbeat's timestamp so its sender can measure the round trip. */
    record HeartbeatReply(Header header, long echoedTimestampMicros) implements Packet {
        public HeartbeatReply {
            Objects.requireNonNull(header, "header");
        }

        @Override
        public PacketType type() {
            return PacketType.HEARTBEAT_REPLY;
        }
    }

    /** Reserved for the reliable channel: decoded, never sent yet. */
    record Ack(Header header, long acknowledgedSequence) implements Packet {
        public Ack {
            Objects.requireNonNull(header, "header");
            checkU32("acknowledgedSequence", acknowledgedSequence);
        }

        @Override
        public PacketType type() {
            return PacketType.ACK;
        }
    }

    /** Reserved for the reliable channel: decoded, never sent yet. */
    record Nack(Header header, long acknowledgedSequence) implements Packet {
        public Nack {
            Objects.requireNonNull(header, "header");
            checkU32("acknowledgedSequence", acknowledgedSequence);
        }

        @Override
        public PacketType type() {
            return PacketType.NACK;
        }
    }

    /** The sender is shutting down or leaving this node. */
    record Goodbye(Header header) implements Packet {
        public Goodbye {
            Objects.requireNonNull(header, "header");
        }

        @Override
        public PacketType type() {
            return PacketType.GOODBYE;
        }
    }

    private static void checkU32(String field, long value) {
        if (value < 0 || value > DatagramCodec.MAX_SEQUENCE) {
            throw new IllegalArgumentException(field + " must be 0..4294967295 (u32), not " + value);
        }
    }
}
