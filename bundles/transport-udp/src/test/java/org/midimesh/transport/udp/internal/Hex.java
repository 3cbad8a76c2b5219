package org.midimesh.transport.udp.internal;

import java.util.HexFormat;

/** Reads the annotated hex of docs/protocol.md: {@code #} starts a comment, white space is ignored. */
final class Hex {

    private Hex() {
    }

    static byte[] parse(String annotated) {
        StringBuilder digits = new StringBuilder();
        for (String line : annotated.split("\n", -1)) {
            int hash = line.indexOf('#');
            digits.append((hash >= 0 ? line.substring(0, hash) : line).replaceAll("\\s+", ""));
        }
        return HexFormat.of().parseHex(digits);
    }

    static String format(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }
}
