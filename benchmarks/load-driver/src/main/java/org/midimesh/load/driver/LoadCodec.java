package org.midimesh.load.driver;

import org.midimesh.api.midi.MidiMessage;

/**
 * Sequence number {@code n} (0 &lt;= n &lt; 2^20) as one 3-byte MIDI message, and back:
 * <pre>
 *   status = {0x90, 0xA0, 0xB0, 0xE0}[(n &gt;&gt; 18) &amp; 3] | ((n &gt;&gt; 14) &amp; 0x0F)
 *   data1  = (n &gt;&gt; 7) &amp; 0x7F
 *   data2  = n &amp; 0x7F
 * </pre>
 * so n=0 is {@code 90 00 00}, n=1 {@code 90 00 01}, n=128 {@code 90 01 00}, n=16384 {@code 91 00 00}, n=262144
 * {@code a0 00 00} and n=1048575 {@code ef 7f 7f}. A message that is not 3 bytes long with one of those four status
 * kinds (note on, poly pressure, control change, pitch bend) is foreign: {@link #decode} returns {@link #FOREIGN}.
 * Stateless and thread-safe.
 */
public final class LoadCodec {

    /** How many sequence numbers there are: 2^20; also the most messages a run may have. */
    public static final int SEQUENCES = 1 << 20;

    /** What {@link #decode} returns for a message that carries no sequence number. */
    public static final int FOREIGN = -1;

    private static final int[] KINDS = {0x90, 0xA0, 0xB0, 0xE0};

    private LoadCodec() {
    }

    /** @throws IllegalArgumentException when {@code n} is not in 0..2^20-1 */
    public static MidiMessage encode(int n) {
        if (n < 0 || n >= SEQUENCES) {
            throw new IllegalArgumentException("sequence " + n + " is not in 0.." + (SEQUENCES - 1));
        }
        return MidiMessage.of((byte) (KINDS[(n >> 18) & 3] | ((n >> 14) & 0x0F)), (byte) ((n >> 7) & 0x7F),
                (byte) (n & 0x7F));
    }

    /** The sequence number a message carries, or {@link #FOREIGN}. */
    public static int decode(MidiMessage m) {
        if (m.length() != 3) {
            return FOREIGN;
        }
        int status = m.status();
        int kind = kindIndex(status & 0xF0);
        if (kind < 0) {
            return FOREIGN;
        }
        // MidiMessage guarantees data bytes of at most 0x7f
        return kind << 18 | (status & 0x0F) << 14 | m.byteAt(1) << 7 | m.byteAt(2);
    }

    private static int kindIndex(int high) {
        switch (high) {
            case 0x90:
                return 0;
            case 0xA0:
                return 1;
            case 0xB0:
                return 2;
            case 0xE0:
                return 3;
            default:
                return -1;
        }
    }
}
