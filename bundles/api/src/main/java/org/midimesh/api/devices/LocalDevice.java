package org.midimesh.api.devices;

import java.util.Objects;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;

/** A local device: a driver's port under its stable id. Immutable. */
public record LocalDevice(int id, String name, DeviceType type, String driver) {

    public LocalDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(driver, "driver");
    }

    public DeviceInfo toInfo() {
        return new DeviceInfo(id, name, type);
    }
}
