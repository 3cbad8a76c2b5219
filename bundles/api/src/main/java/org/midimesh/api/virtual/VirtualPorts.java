package org.midimesh.api.virtual;

import java.util.Optional;

import org.midimesh.api.DeviceType;
import org.midimesh.api.driver.MidiPort;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates and deletes ports of the virtual driver. Virtual ports are kept in the data dir and come back after a
 * restart. Thread-safe.
 */
@ProviderType
public interface VirtualPorts {

    /**
     * Creates a port and announces it to the driver's listeners before returning.
     *
     * @throws IllegalArgumentException when the name is blank or a port of that name and type exists
     */
    MidiPort create(String name, DeviceType type);

    /** Deletes the port; false when there is no such port. */
    boolean delete(String name, DeviceType type);

    Optional<MidiPort> find(String name, DeviceType type);

    /** True when the port is one of the virtual driver's current ports (so it can be deleted through here). */
    boolean owns(MidiPort port);

    /** True for the node's default ports ({@code <name> In}, {@code <name> Out}), which cannot be deleted. */
    boolean isDefault(MidiPort port);
}
