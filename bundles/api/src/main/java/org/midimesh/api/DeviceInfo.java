package org.midimesh.api;

import java.util.Objects;

/**
 * A MIDI device as announced to peers: id on its owner node, name and direction. Immutable.
 *
 * @param id device id on the owning node, 1..65535
 */
public record DeviceInfo(int id, String name, DeviceType type) {

    public static final int MAX_ID = 0xffff;

    public DeviceInfo {
        if (id < 1 || id > MAX_ID) {
            throw new IllegalArgumentException("device id must be 1.." + MAX_ID + ", not " + id);
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("device name is missing");
        }
        Objects.requireNonNull(type, "type");
    }
}
