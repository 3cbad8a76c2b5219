package org.midimesh.api.midi;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One complete, valid MIDI message. Immutable and thread-safe: the bytes are copied in and never handed out.
 * <p>Valid means: it starts with a defined status byte, has the length its status requires, every data byte is at most
 * 0x7f, and a SysEx message starts with F0 and ends with F7. Running status is not accepted: each message carries its
 * own status byte.
 */
public final class MidiMessage {

    private static final HexFormat HEX = HexFormat.of();

    private final byte[] data;

    private MidiMessage(byte[] data) {
        this.data = data;
    }

    /**
     * Validates and copies a message.
     *
     * @throws IllegalArgumentException naming what is wrong when the bytes are not one valid message
     */
    public static MidiMessage of(byte... bytes) {
        String problem = validate(bytes);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return new MidiMessage(bytes.clone());
    }

    /**
     * Parses hex text such as {@code "90 3c 64"} or {@code "903C64"}; white space between bytes is optional.
     *
     * @throws IllegalArgumentException for text that is not hex or not one valid message
     */
    public static MidiMessage parseHex(String text) {
        if (text == null) {
            throw new IllegalArgumentException("message is missing");
        }
        String compact = text.replaceAll("\\s+", "");
        if (compact.isEmpty()) {
            throw new IllegalArgumentException("message is empty");
        }
        if (compact.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits");
        }
        byte[] bytes;
        try {
            bytes = HEX.parseHex(compact);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not hex: " + text);
        }
        return of(bytes);
    }

    /** The expected total length for a status byte, -1 for SysEx (variable), 0 for an undefined status. */
    public static int lengthForStatus(int status) {
        if (status < 0x80) {
            return 0;
        }
        if (status < 0xf0) {
            int high = status & 0xf0;
            return (high == 0xc0 || high == 0xd0) ? 2 : 3;
        }
        switch (status) {
            case 0xf0:
                return -1;
            case 0xf1:
            case 0xf3:
                return 2;
            case 0xf2:
                return 3;
            case 0xf6:
            case 0xf8:
            case 0xfa:
            case 0xfb:
            case 0xfc:
            case 0xfe:
            case 0xff:
                return 1;
            default: // f4, f5, f7 (end of SysEx alone), f9, fd
                return 0;
        }
    }

    /** Returns why the bytes are not one valid message, or null when they are. */
    public static String validate(byte[] b) {
        if (b == null || b.length == 0) {
            return "message is empty";
        }
        int status = b[0] & 0xff;
        if (status < 0x80) {
            return String.format("no status byte: first byte is %02x", status);
        }
        int expected = lengthForStatus(status);
        if (expected == 0) {
            return String.format("undefined status byte %02x", status);
        }
        if (expected == -1) {
            if ((b[b.length - 1] & 0xff) != 0xf7 || b.length < 2) {
                return "unterminated SysEx: it must end with f7";
            }
            for (int i = 1; i < b.length - 1; i++) {
                if ((b[i] & 0xff) > 0x7f) {
                    return String.format("SysEx data byte %d is %02x, above 7f", i, b[i] & 0xff);
                }
            }
            return null;
        }
        if (b.length != expected) {
            return String.format("status %02x needs %d bytes, got %d", status, expected, b.length);
        }
        for (int i = 1; i < b.length; i++) {
            if ((b[i] & 0xff) > 0x7f) {
                return String.format("data byte %d is %02x, above 7f", i, b[i] & 0xff);
            }
        }
        return null;
    }

    public int status() {
        return data[0] & 0xff;
    }

    public int length() {
        return data.length;
    }

    /** The byte at {@code index}, 0..255. */
    public int byteAt(int index) {
        return data[index] & 0xff;
    }

    public byte[] toBytes() {
        return data.clone();
    }

    /** Copies the bytes into {@code target} at {@code offset}. */
    public void copyTo(byte[] target, int offset) {
        System.arraycopy(data, 0, target, offset, data.length);
    }

    public MessageType type() {
        return MessageType.ofStatus(status());
    }

    /** Channel 1..16 for channel messages, 0 for system messages. */
    public int channel() {
        int s = status();
        return s < 0xf0 ? (s & 0x0f) + 1 : 0;
    }

    public boolean isSysEx() {
        return status() == 0xf0;
    }

    /**
     * True for messages that travel as realtime datagrams: channel voice and system realtime (f8..ff). SysEx and system
     * common messages need the reliable channel.
     */
    public boolean isRealtime() {
        int s = status();
        return s < 0xf0 || s >= 0xf8;
    }

    /** Lower-case hex without spaces, as in {@code 903c64}. */
    public String toHex() {
        return HEX.formatHex(data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MidiMessage m && Arrays.equals(data, m.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return toHex();
    }
}
