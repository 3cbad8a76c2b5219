package org.midimesh.driver.javasound.internal;

import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.MidiPort;

/**
 * Common part of the javasound ports: a name and an availability that never change (a port whose availability
 * changes is replaced by a new object under the same name), and whether the driver has closed its device. Thread-safe.
 */
abstract sealed class JavaSoundPort implements MidiPort permits JavaSoundInputPort, JavaSoundOutputPort {

    private final String name;
    private final Availability availability;

    // Written once (false -> true) by the driver thread when it closes the device (the device went away or the driver
    // stopped); read by the threads that use the port. The volatile write publishes only the flag itself.
    private volatile boolean closed;

    JavaSoundPort(String name, Availability availability) {
        this.name = name;
        this.availability = availability;
    }

    @Override
    public final String name() {
        return name;
    }

    /** Fixed for this object; never blocks. */
    @Override
    public final Availability availability() {
        return availability;
    }

    /** Called by the driver thread once the device is closed: the port is no longer listed and does nothing more. */
    final void markClosed() {
        closed = true;
    }

    final boolean closed() {
        return closed;
    }

    @Override
    public String toString() {
        return JavaSoundMidiDriver.NAME + " " + type().wireName() + " \"" + name + "\"";
    }
}
