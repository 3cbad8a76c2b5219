package org.midimesh.api;

import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/**
 * The full 128-bit identity of a node. Immutable and thread-safe.
 * <p>Text form is the standard 36-character UUID; {@link #parse} also takes 32 hex digits without dashes.
 */
public record NodeId(UUID uuid) implements Comparable<NodeId> {

    public NodeId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static NodeId random() {
        return new NodeId(UUID.randomUUID());
    }

    /**
     * Parses a node id.
     *
     * @throws IllegalArgumentException when the text is neither a dashed UUID nor 32 hex digits
     */
    public static NodeId parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("node id is missing");
        }
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.length() == 32 && t.chars().allMatch(NodeId::isHex)) {
            t = t.substring(0, 8) + "-" + t.substring(8, 12) + "-" + t.substring(12, 16) + "-"
                    + t.substring(16, 20) + "-" + t.substring(20);
        }
        if (t.length() != 36 || t.charAt(8) != '-' || t.charAt(13) != '-' || t.charAt(18) != '-' || t.charAt(23) != '-'
                || !t.replace("-", "").chars().allMatch(NodeId::isHex) || t.replace("-", "").length() != 32) {
            throw new IllegalArgumentException("not a node id (UUID or 32 hex digits): " + text);
        }
        return new NodeId(UUID.fromString(t));
    }

    /** Big-endian 16 bytes, in the order of the text form. */
    public byte[] toBytes() {
        byte[] b = new byte[16];
        long hi = uuid.getMostSignificantBits();
        long lo = uuid.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }

    public static NodeId fromBytes(byte[] b, int offset) {
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (b[offset + i] & 0xff);
            lo = (lo << 8) | (b[offset + 8 + i] & 0xff);
        }
        return new NodeId(new UUID(hi, lo));
    }

    private static boolean isHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    @Override
    public int compareTo(NodeId o) {
        return uuid.compareTo(o.uuid);
    }

    @Override
    public String toString() {
        return uuid.toString();
    }
}
