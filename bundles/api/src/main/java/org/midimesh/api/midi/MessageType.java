package org.midimesh.api.midi;

import java.util.Locale;

/** The kind of a MIDI message, as routes filter on it. */
public enum MessageType {
    NOTE_OFF, NOTE_ON, POLY_AFTERTOUCH, CONTROL_CHANGE, PROGRAM_CHANGE, CHANNEL_AFTERTOUCH, PITCH_BEND, SYSTEM;

    /** The type of a message with this status byte (0x80..0xff). */
    public static MessageType ofStatus(int status) {
        if (status < 0x80 || status > 0xff) {
            throw new IllegalArgumentException("not a status byte: " + status);
        }
        return status >= 0xf0 ? SYSTEM : values()[(status >> 4) - 8];
    }

    /** The snake_case name used in the HTTP API. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for a name not in this enum */
    public static MessageType fromWireName(String s) {
        for (MessageType t : values()) {
            if (t.wireName().equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown message type: " + s);
    }
}
