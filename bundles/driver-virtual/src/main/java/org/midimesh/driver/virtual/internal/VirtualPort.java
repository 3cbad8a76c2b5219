package org.midimesh.driver.virtual.internal;

import org.midimesh.api.DeviceType;
import org.midimesh.api.driver.MidiPort;

/** Common part of the virtual ports: an immutable name and direction. Thread-safe. */
abstract sealed class VirtualPort implements MidiPort permits VirtualInputPort, VirtualOutputPort {

    private final String name;
    private final boolean builtIn;

    VirtualPort(String name, boolean builtIn) {
        this.name = name;
        this.builtIn = builtIn;
    }

    @Override
    public final String name() {
        return name;
    }

    /** True for the node's default ports, which cannot be deleted and are not stored. */
    final boolean builtIn() {
        return builtIn;
    }

    final boolean is(String otherName, DeviceType otherType) {
        return name.equals(otherName) && type() == otherType;
    }

    @Override
    public String toString() {
        return "virtual " + type().wireName() + " \"" + name + "\"";
    }
}
