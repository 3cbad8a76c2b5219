package org.midimesh.driver.javasound.internal;

import java.util.Set;

/**
 * Port names from JDK device names: without control characters, at most {@value #MAX_LENGTH} characters, and unique
 * within a driver and direction ({@code "Name"}, {@code "Name #2"}, {@code "Name #3"}, ...). Stateless.
 */
final class PortNames {

    static final int MAX_LENGTH = 128;
    static final String UNNAMED = "MIDI device";

    private PortNames() {
    }

    /**
     * The device name made fit for a port: control characters become spaces, runs of white space one space, ends
     * trimmed, cut to {@value #MAX_LENGTH} characters (code points); {@value #UNNAMED} when nothing is left.
     */
    static String base(String deviceName) {
        if (deviceName == null) {
            return UNNAMED;
        }
        StringBuilder b = new StringBuilder(deviceName.length());
        deviceName.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        String clean = b.toString().replaceAll("\\s+", " ").strip();
        return clean.isEmpty() ? UNNAMED : cut(clean, MAX_LENGTH);
    }

    /**
     * {@code base} when nobody has it, otherwise {@code base + " #n"} with the smallest n from 2 that is free; the
     * base is cut so that the result stays within {@value #MAX_LENGTH} characters.
     *
     * @param base  a name as made by {@link #base}
     * @param taken the names already given in this direction
     */
    static String unique(String base, Set<String> taken) {
        if (!taken.contains(base)) {
            return base;
        }
        for (int n = 2; ; n++) {
            String suffix = " #" + n;
            String candidate = cut(base, MAX_LENGTH - suffix.length()).stripTrailing() + suffix;
            if (!taken.contains(candidate)) {
                return candidate;
            }
        }
    }

    private static String cut(String s, int maxCodePoints) {
        if (s.codePointCount(0, s.length()) <= maxCodePoints) {
            return s;
        }
        return s.substring(0, s.offsetByCodePoints(0, maxCodePoints));
    }
}
