package org.midimesh.api;

import java.util.Locale;

/** Direction of a MIDI device as the mesh sees it: an input produces messages, an output plays them. */
public enum DeviceType {
    INPUT, OUTPUT;

    /** The lower-case name used on the wire and in the HTTP API. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for anything but "input" or "output" */
    public static DeviceType fromWireName(String s) {
        if ("input".equals(s)) {
            return INPUT;
        }
        if ("output".equals(s)) {
            return OUTPUT;
        }
        throw new IllegalArgumentException("type must be \"input\" or \"output\", not " + s);
    }
}
