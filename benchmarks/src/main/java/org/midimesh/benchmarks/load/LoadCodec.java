package org.midimesh.benchmarks.load;

/**
 * The load driver's encoding of a sequence number as one 3-byte MIDI message (the same arithmetic as
 * {@code org.midimesh.load.driver.LoadCodec} in benchmarks/load-driver): 2^20 distinct messages, status one of
 * {@code 90 a0 b0 e0} with the channel, then two data bytes.
 */
final class LoadCodec {

    static final int LIMIT = 1 << 20;
    private static final int[] STATUS = {0x90, 0xA0, 0xB0, 0xE0};

    private LoadCodec() {
    }

    static byte[] encode(int n) {
        if (n < 0 || n >= LIMIT) {
            throw new IllegalArgumentException("sequence " + n + " is outside 0.." + (LIMIT - 1));
        }
        return new byte[] {(byte) (STATUS[(n >> 18) & 3] | ((n >> 14) & 0x0F)), (byte) ((n >> 7) & 0x7F),
                (byte) (n & 0x7F)};
    }

    static String hex(int n) {
        byte[] b = encode(n);
        return String.format("%02x %02x %02x", b[0] & 0xff, b[1], b[2]);
    }
}
